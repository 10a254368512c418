import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const run = (env) =>
  new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ["index.js"], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      timeout: 100_000,
      env: { ...process.env, CAIR_CLIENT_ID: "", CAIR_CLIENT_SECRET: "", ...env }
    }, (error, stdout, stderr) => error?.killed ? reject(error) : resolve({ code: child.exitCode, stdout, stderr }))
  })

it("runs against the fake server, makes one token request, and exits by itself", async () => {
  const { code, stdout } = await run({})
  expect(code).toBe(0)
  expect(stdout).toContain("member m-1003: eligible=true")
  expect(stdout).toContain("token requests made: 1")
  expect(stdout).not.toMatch(/fake-at-/)
}, 120_000)

it("exits with status 1 and a clear message when the API is unreachable", async () => {
  const { code, stderr } = await run({
    CAIR_CLIENT_ID: "clinic",
    CAIR_CLIENT_SECRET: "secret-never-printed",
    CAIR_BASE_URL: "http://127.0.0.1:9"
  })
  expect(code).toBe(1)
  // One line with what to check, no stack trace.
  expect(stderr.trim().split("\n")).toEqual([
    expect.stringMatching(
      /^TokenRequestFailed: .*\(is the base URL \(CAIR_BASE_URL\) right, and can this machine reach it\?\)$/
    )
  ])
  expect(stderr).not.toContain("secret-never-printed")
}, 120_000)
