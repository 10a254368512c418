import { FakeCairServer } from "@cair/auth-testing"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

interface Run {
  readonly code: number | null
  readonly output: string
}

/** The pnpm script that runs these tests (`pnpm test` sets `npm_execpath`), else the pnpm on PATH. */
const execPath = process.env["npm_execpath"]
const pnpm = execPath !== undefined && /pnpm\.c?js$/.test(execPath)
  ? { file: process.execPath, args: [execPath] }
  : { file: "pnpm", args: [] }

/** Runs the README's one command from the repository root, with no CAIR_* variable but those in `env`. */
const start = (env: Record<string, string> = {}) =>
  new Promise<Run>((resolve, reject) => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("CAIR_")))
    const child = execFile(pnpm.file, [...pnpm.args, "--filter", "@cair/example-effect-app", "start"], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
      timeout: 100_000,
      env: { ...inherited, ...env }
    }, (error, stdout, stderr) =>
      error?.killed ? reject(error) : resolve({ code: child.exitCode, output: stdout + stderr }))
  })

it("`pnpm --filter @cair/example-effect-app start` runs against the fake server and exits 0 by itself", async () => {
  const { code, output } = await start()
  expect(code).toBe(0)
  expect(output).toContain("using the fake Cair server at http://127.0.0.1:")
  expect(output).toContain("member m-1003: eligible=true")
  expect(output).toContain("token requests made: 1")
  expect(output).not.toMatch(/fake-[ar]t-|demo-secret/)
}, 120_000)

it("with wrong credentials in the environment it exits 1 with InvalidCredentials and prints no secret", async () => {
  const server = await FakeCairServer.start()
  try {
    const { code, output } = await start({
      CAIR_CLIENT_ID: server.credentials.clientId,
      CAIR_CLIENT_SECRET: "secret-never-printed",
      CAIR_BASE_URL: server.url
    })
    expect(code).toBe(1)
    expect(output).toContain("InvalidCredentials")
    expect(output).not.toContain("secret-never-printed")
    expect(server.count("/api/token")).toBe(1)
    expect(server.count("/api/eligibility/v1")).toBe(0)
  } finally {
    await server.stop()
  }
}, 120_000)
