/**
 * The test projects: one per package and example, each with its own vitest config (name, include, timeouts).
 * `vitest.config.ts` runs them as its `test.projects`: vitest 3.2 deprecates reading this file by itself.
 */
export default ["packages/*/vitest.config.ts", "examples/*/vitest.config.{ts,mjs}"]
