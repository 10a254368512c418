import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/auth-testing",
    include: ["test/**/*.test.ts"]
  }
})
