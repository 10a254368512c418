import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/example-legacy-node",
    include: ["test/**/*.test.mjs"]
  }
})
