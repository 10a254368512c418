import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/auth",
    include: ["test/**/*.test.ts"]
  }
})
