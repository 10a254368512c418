/**
 * `redisUrl`: processes on the Promise adapter share one token through Redis (`@cair/auth-redis`, loaded only when
 * the option is set), against the fake server and a real redis-server.
 */
import { FakeCairServer, RedisServer } from "@cair/auth-testing"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

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
  it("6 processes cold share one token: exactly 1 token request", async () => {
    const server = await FakeCairServer.start()
    try {
      const env = {
        CAIR_CLIENT_ID: server.credentials.clientId,
        CAIR_CLIENT_SECRET: server.credentials.clientSecret,
        CAIR_BASE_URL: server.url,
        CAIR_REDIS_URL: redis.url
      }
      const results = await processes(6, env)
      const tokens = results.map((result) => result.stdout.trim())
      expect(tokens.every((line) => line.startsWith("token "))).toBe(true)
      expect(new Set(tokens).size).toBe(1)
      expect(server.count("/api/token")).toBe(1)
    } finally {
      await server.stop()
    }
  }, 120_000)

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
