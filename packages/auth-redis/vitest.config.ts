import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/auth-redis",
    include: ["test/**/*.test.ts"],
    // Fails a test file that prints a secret or token (see the file).
    setupFiles: ["../auth/test/utils/scanOutput.ts"]
  }
})
