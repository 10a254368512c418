import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@cair/example-fleet",
    include: ["test/**/*.test.ts"],
    // Tests start servers on 127.0.0.1 (and processes): CI is a busy 2-core machine, where that can take seconds.
    // Waits are for events; these bounds only turn a hang into a failure.
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
