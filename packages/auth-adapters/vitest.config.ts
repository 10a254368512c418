import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/auth-adapters",
    include: ["test/**/*.test.ts"]
  }
})
