import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/example-test-layer-swap",
    include: ["test/**/*.test.ts"]
  }
})
