import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const run = (env: Record<string, string>, args: ReadonlyArray<string> = []) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    // The built demo, as `pnpm demo` runs it (`pnpm test` builds first).
    const child = execFile(process.execPath, ["dist/main.js", ...args], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      timeout: 100_000,
      // No CAIR_* variable but those in `env`.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("CAIR_"))), ...env }
    }, (error, stdout, stderr) => error?.killed ? reject(error) : resolve({ code: child.exitCode, stdout, stderr }))
  })

it("runs the whole timeline against the fake server and exits by itself with 0", async () => {
  const { code, stdout } = await run({})
  expect(code).toBe(0)
  for (
    const line of [
      "token generation 1 acquired via credentials",
      "token generation 2 acquired via refresh",
      "a refresh runs in the background",
      "refresh token rejected: falling back to the client credentials",
      "the server answered /api/refresh with 503, then 200",
      "Token requests: 7 (/api/token: 2, /api/refresh: 5) for 7 API calls",
      "Done."
    ]
  ) expect(stdout).toContain(line)
  expect(stdout).not.toMatch(/fake-(at|rt)-/)
  expect(stdout).not.toContain("demo-secret")
}, 120_000)

it("exits non-zero with the typed error when the configured API cannot be reached", async () => {
  const { code, stderr, stdout } = await run({
    CAIR_CLIENT_ID: "clinic",
    CAIR_CLIENT_SECRET: "secret-never-printed",
    CAIR_BASE_URL: "http://127.0.0.1:9"
  })
  expect(code).toBe(1)
  // One line, with what to check: no stack frames, no Effect cause rendering.
  expect(stderr.trim().split("\n")).toEqual([expect.stringMatching(
    /^The demo failed: TokenRequestFailed: Token request to http:\/\/127\.0\.0\.1:9\/api\/token failed: .*\(is the base URL \(CAIR_BASE_URL\) right, and can this machine reach it\?\)$/
  )])
  expect(stdout + stderr).not.toContain("secret-never-printed")
}, 120_000)

it("a missing secret is one line naming the variable, before anything else is printed", async () => {
  const { code, stderr, stdout } = await run({ CAIR_CLIENT_ID: "clinic" })
  expect(code).toBe(1)
  expect(stdout).toBe("")
  expect(stderr).toBe("The demo failed: CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel)\n")
}, 120_000)

it("an invalid CAIR_BASE_URL is refused before the banner names it; --verbose prints the whole cause", async () => {
  const env = { CAIR_CLIENT_ID: "clinic", CAIR_CLIENT_SECRET: "secret-never-printed", CAIR_BASE_URL: "not-a-url" }
  const { code, stderr, stdout } = await run(env)
  expect(code).toBe(1)
  expect(stdout).not.toContain("not-a-url")
  expect(stderr).toBe(
    "The demo failed: CAIR_BASE_URL is invalid: not an absolute URL (expected e.g. https://forecaster.cairhealth.com)\n"
  )
  const verbose = await run(env, ["--verbose"])
  expect(verbose.code).toBe(1)
  expect(verbose.stderr).toContain("Invalid data at CAIR_BASE_URL")
  expect(verbose.stdout + verbose.stderr).not.toContain("secret-never-printed")
}, 120_000)
