import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/example-demo",
    include: ["test/**/*.test.ts"]
  }
})
