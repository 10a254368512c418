// @ts-check
// @cair/auth-cli as an operator gets it: installed from its packed tarball into a fresh project and run with
// `npx cair-auth` against the fake Cair server. The token it prints must work, and `check` must give its exit codes.
import { FakeCairServer } from "@cair/auth-testing"
import assert from "node:assert/strict"
import { spawn } from "node:child_process"

const credentials = { clientId: "smoke-cli", clientSecret: "smoke-cli-secret-7d1e" }

/**
 * The environment of an operator's shell: this script runs under `pnpm test:smoke`, whose `npm_*` variables would
 * make npx print config warnings that no operator sees.
 */
const operatorEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))

/**
 * `npx cair-auth ...args` with `env` over this process's environment; resolves once it has exited by itself.
 *
 * @param {ReadonlyArray<string>} args
 * @param {Record<string, string>} env
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
const npx = (args, env) =>
  new Promise((resolve, reject) => {
    const child = spawn("npx", ["--no", "cair-auth", ...args], {
      env: { ...operatorEnv, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const server = await FakeCairServer.start({ credentials })
try {
  const env = {
    CAIR_CLIENT_ID: credentials.clientId,
    CAIR_CLIENT_SECRET: credentials.clientSecret,
    CAIR_BASE_URL: server.url
  }
  const token = await npx(["token"], env)
  assert.equal(token.code, 0, token.stderr)
  assert.match(token.stdout, /^fake-at-\d+-[0-9a-f]{12}\n$/)
  const response = await fetch(`${server.url}/api/eligibility/v1`, {
    method: "POST",
    headers: { authorization: `Bearer ${token.stdout.trim()}`, "content-type": "application/json" },
    body: JSON.stringify({ memberId: "m-1001" })
  })
  assert.equal(response.status, 200)

  const check = await npx(["check"], env)
  assert.equal(check.code, 0, check.stderr)
  assert.match(check.stdout, /credentials +ok +accepted/)

  const wrong = await npx(["check"], { ...env, CAIR_CLIENT_SECRET: "wrong" })
  assert.equal(wrong.code, 4, wrong.stderr)

  const missing = await npx(["check"], { ...env, CAIR_CLIENT_SECRET: "" })
  assert.equal(missing.code, 3, missing.stderr)
  assert.match(missing.stderr, /^cair-auth: CAIR_CLIENT_SECRET is empty/)

  for (const run of [token, check, wrong, missing]) {
    assert.ok(!`${run.stdout}${run.stderr}`.includes(credentials.clientSecret), "the secret was printed")
  }
  const version = await npx(["--version"], {})
  assert.equal(version.code, 0, version.stderr)
  console.log(`cair-auth ${version.stdout.trim()}`)
  console.log("cli-npx: ok")
} finally {
  await server.stop()
}
