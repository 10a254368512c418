import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/example-effect-app",
    include: ["test/**/*.test.ts"]
  }
})
