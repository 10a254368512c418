import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

/** The pnpm script that runs these tests (`pnpm test` sets `npm_execpath`), else the pnpm on PATH. */
const execPath = process.env["npm_execpath"]
const pnpm = execPath !== undefined && /pnpm\.c?js$/.test(execPath)
  ? { file: process.execPath, args: [execPath] }
  : { file: "pnpm", args: [] }

/** Runs the README's one command from the repository root and waits for it to exit. */
const start = () =>
  new Promise<{ readonly code: number | null; readonly output: string }>((resolve, reject) => {
    const child = execFile(pnpm.file, [...pnpm.args, "--filter", "@cair/example-observability", "start"], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
      timeout: 100_000,
      maxBuffer: 16 * 1024 * 1024
    }, (error, stdout, stderr) =>
      error?.killed ? reject(error) : resolve({ code: child.exitCode, output: stdout + stderr }))
  })

it("`pnpm --filter @cair/example-observability start` prints the spans and the metrics and exits 0", async () => {
  const { code, output } = await start()
  expect(code).toBe(0)
  expect(output).toContain("token requests made: 4 to /api/token, 2 to /api/refresh")
  // The spans: the flight, the request, one client span per attempt with its resend count.
  const spans = output.slice(output.indexOf("== spans =="), output.indexOf("== metrics"))
  expect(spans).toMatch(/CairAuth\.flight \[internal, ok\]\n.*\n.*\n\s+TokenEndpoint\.requestToken \[internal, ok\]/)
  expect(spans.match(/POST \/api\/token \[client, error\]/g)).toHaveLength(2)
  expect(spans).toContain("http.request.resend_count = 1")
  expect(spans).toContain("http.request.resend_count = 2")
  expect(spans).toContain("error.type = 503")
  expect(spans).toContain("POST /api/refresh [client, error]")
  // The metrics, as Prometheus would scrape them.
  const metrics = output.slice(output.indexOf("== metrics"))
  expect(metrics).toContain("# TYPE cair_auth_token_requests_total counter")
  expect(metrics).toMatch(
    /cair_auth_token_requests_total\{.*cair_auth_endpoint="token",cair_auth_outcome="ok".*\} 2$/m
  )
  expect(metrics).toMatch(/cair_auth_token_request_retries_total\{.*cair_auth_reason="Status".*\} 2$/m)
  expect(metrics).toMatch(/cair_auth_token_reads_total\{.*cair_auth_read="cached".*\} 1001$/m)
  expect(metrics).toMatch(/cair_auth_fallbacks_total\{.*cair_auth_reason="RefreshTokenRejected".*\} 1$/m)
  expect(metrics).toMatch(/cair_auth_invalidations_total\{.*cair_auth_reason="unauthorized".*\} 1$/m)
  expect(metrics).toContain("# TYPE cair_auth_token_request_duration histogram")
  // No token and no secret of the fake server's.
  expect(output).not.toMatch(/fake-[ar]t-|demo-secret/)
}, 120_000)
