import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts"],
      reporter: ["text-summary", "text"],
      thresholds: { "packages/auth/src/**": { lines: 90 } }
    }
  }
})
