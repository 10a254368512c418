/**
 * `redisUrl`, the option itself, in its failures: Redis unreachable (works alone), a URL node-redis cannot parse and
 * `@cair/auth-redis` not installed. The fleet (many processes sharing one token) is in Fleet.test.ts.
 */
import { FakeCairServer, RedisServer } from "@cair/auth-testing"
import { execFile } from "node:child_process"
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { inspect, promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createCairAuthClient, InvalidOptions } from "../src/index.js"

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL("..", import.meta.url))

// One process: a client with redisUrl, its token by a short hash (never the token itself).
const script = `
import { createCairAuthClient } from "@cair/auth-adapters"
import { createHash } from "node:crypto"
const auth = createCairAuthClient({
  clientId: process.env.CAIR_CLIENT_ID, clientSecret: process.env.CAIR_CLIENT_SECRET,
  baseUrl: process.env.CAIR_BASE_URL, redisUrl: process.env.CAIR_REDIS_URL, logLevel: "Warning"
})
const token = await auth.getAccessToken()
console.log("token " + createHash("sha256").update(token).digest("hex").slice(0, 16))
await auth.close()
`

let redis: RedisServer.RedisServer
beforeAll(async () => {
  redis = await RedisServer.start({ startTimeoutMs: 60_000 })
}, 90_000)
afterAll(() => redis?.stop(), 30_000)

const processes = (n: number, env: Record<string, string>) =>
  Promise.all(Array.from({ length: n }, () =>
    run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: packageDir,
      env: { ...process.env, ...env },
      timeout: 100_000
    })))

describe("createCairAuthClient({ redisUrl })", () => {
  it("Redis unreachable: each process works on its own, with one warning", async () => {
    const server = await FakeCairServer.start()
    try {
      const env = {
        CAIR_CLIENT_ID: server.credentials.clientId,
        CAIR_CLIENT_SECRET: server.credentials.clientSecret,
        CAIR_BASE_URL: server.url,
        CAIR_REDIS_URL: "redis://127.0.0.1:1"
      }
      const results = await processes(2, env)
      for (const result of results) {
        const output = result.stdout + result.stderr
        expect(output).toMatch(/^token [0-9a-f]{16}$/m)
        expect(output.match(/Redis token store at redis:\/\/127\.0\.0\.1:1 unavailable/g)?.length, output).toBe(1)
      }
      expect(server.count("/api/token")).toBe(2)
    } finally {
      await server.stop()
    }
  }, 120_000)
})

describe("createCairAuthClient({ redisUrl }) with a URL node-redis cannot parse", () => {
  it("every call rejects with InvalidOptions saying what is wrong, never the URL; no token request", async () => {
    const server = await FakeCairServer.start()
    const password = "pw-S3CRET-adapter-91c4"
    const auth = createCairAuthClient({
      ...server.credentials,
      baseUrl: server.url,
      // Not percent-encoded: node-redis cannot decode it.
      redisUrl: `redis://user:${password}%ZZ@127.0.0.1:6379`
    })
    try {
      for (const call of [auth.getAccessToken(), auth.getAccessToken(), auth.fetch("/api/eligibility/v1")]) {
        const error: unknown = await call.then(() => undefined, (error: unknown) => error)
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error).toMatchObject({ option: "redisUrl" })
        expect((error as Error).message).toMatch(/^Invalid Cair auth option "redisUrl": the Redis URL cannot be parsed/)
        const shown = [(error as Error).message, String(error), JSON.stringify(error), inspect(error, { depth: 10 })]
        expect(shown.join("\n")).not.toContain("S3CRET")
      }
      expect(server.count()).toBe(0)
    } finally {
      await auth.close()
      await server.stop()
    }
  }, 60_000)
})

describe("createCairAuthClient({ redisUrl }) without @cair/auth-redis installed", () => {
  // The built package, alone in a project of its own (as a user installs it, it bundles all it runs): the import of
  // @cair/auth-redis finds nothing there, as in an app that never installed it.
  const project = mkdtempSync(join(tmpdir(), "cair-adapter-no-redis-"))
  const installed = join(project, "node_modules", "@cair", "auth-adapters")
  cpSync(join(packageDir, "package.json"), join(installed, "package.json"))
  cpSync(join(packageDir, "dist"), join(installed, "dist"), { recursive: true })
  afterAll(() => rmSync(project, { recursive: true, force: true }))

  // Three calls, each must reject with InvalidOptions naming the package; the client then closes as usual.
  const body = (load: string) => `
${load}
const auth = createCairAuthClient({
  clientId: process.env.CAIR_CLIENT_ID, clientSecret: process.env.CAIR_CLIENT_SECRET,
  baseUrl: process.env.CAIR_BASE_URL, redisUrl: process.env.CAIR_REDIS_URL
})
const outcome = (promise) => promise.then(
  () => ({ ok: true }),
  (error) => ({ instance: error instanceof InvalidOptions, tag: error._tag, option: error.option, message: error.message })
)
const main = async () => {
  const calls = [await outcome(auth.getAccessToken()), await outcome(auth.getAccessToken()), await outcome(auth.fetch("/api/eligibility/v1"))]
  await auth.close()
  console.log(JSON.stringify(calls))
}
main()
`
  writeFileSync(
    join(project, "main.mjs"),
    body(`import { createCairAuthClient, InvalidOptions } from "@cair/auth-adapters"`)
  )
  writeFileSync(
    join(project, "main.cjs"),
    body(`const { createCairAuthClient, InvalidOptions } = require("@cair/auth-adapters")`)
  )

  for (const format of ["mjs", "cjs"]) {
    it(
      `${format}: every call rejects with InvalidOptions naming the package to install; no token request`,
      async () => {
        const server = await FakeCairServer.start()
        try {
          const result = await run(process.execPath, [join(project, `main.${format}`)], {
            cwd: project,
            env: {
              ...process.env,
              CAIR_CLIENT_ID: server.credentials.clientId,
              CAIR_CLIENT_SECRET: server.credentials.clientSecret,
              CAIR_BASE_URL: server.url,
              // A Redis that answers: only the missing package can fail these calls.
              CAIR_REDIS_URL: redis.url
            },
            timeout: 60_000
          })
          const calls = JSON.parse(result.stdout) as Array<Record<string, unknown>>
          expect(calls).toHaveLength(3)
          for (const call of calls) {
            expect(call).toEqual({
              instance: true,
              tag: "InvalidOptions",
              option: "redisUrl",
              message:
                "Invalid Cair auth option \"redisUrl\": it is set, but @cair/auth-redis is not installed: npm install @cair/auth-redis"
            })
          }
          // No warning in place of the error, and nothing requested.
          expect(result.stderr).toBe("")
          expect(server.count()).toBe(0)
        } finally {
          await server.stop()
        }
      },
      90_000
    )
  }
})
