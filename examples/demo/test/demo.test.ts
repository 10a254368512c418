import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const run = (env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      timeout: 100_000,
      env: { ...process.env, CAIR_CLIENT_ID: "", CAIR_CLIENT_SECRET: "", CAIR_BASE_URL: "", ...env }
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
  expect(code).not.toBe(0)
  expect(stdout + stderr).toContain("TokenRequestFailed")
  expect(stdout + stderr).not.toContain("secret-never-printed")
}, 120_000)
