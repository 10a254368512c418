import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { expect, it } from "vitest"

it("four workers on one Redis share one token: one credentials request for the fleet", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, WORK_MS: "5000" },
    timeout: 110_000
  })
  expect(stdout).toMatch(
    /token endpoint: 1 credentials request\(s\) and \d+ refresh\(es\) for 4 workers; no refresh token sent twice: true/
  )
  expect(stdout).toContain("token from the fleet (Redis)")
}, 120_000)
