import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/auth",
    include: ["test/**/*.test.ts"],
    // Fails a test file that prints a secret or token (see the file).
    setupFiles: ["./test/utils/scanOutput.ts"]
  }
})
