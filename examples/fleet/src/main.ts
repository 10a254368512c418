/**
 * A fleet in one command: a redis-server on a free port, the fake Cair server issuing 4-second tokens, and four
 * worker processes with one client id. They share one token: one credentials request for the fleet, then one
 * refresh per token life, whoever makes it.
 */
import { FakeCairServer, RedisServer } from "@cair/auth-testing"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const workers = Number(process.env.WORKERS ?? 4)
const redis = await RedisServer.start({ startTimeoutMs: 60_000 })
const server = await FakeCairServer.start({ accessTokenTtlMs: 4_000 })
console.log(`redis-server on ${redis.url}, fake Cair server on ${server.url}, ${workers} workers, 4 s tokens`)

const run = (i: number) =>
  new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./worker.ts", import.meta.url))], {
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        WORKER_NAME: `worker ${i + 1}`,
        CAIR_CLIENT_ID: server.credentials.clientId,
        CAIR_CLIENT_SECRET: server.credentials.clientSecret,
        CAIR_BASE_URL: server.url,
        CAIR_REDIS_URL: redis.url
      }
    })
    child.once("exit", (code) => resolve(code ?? 1))
  })

try {
  const codes = await Promise.all(Array.from({ length: workers }, (_, i) => run(i)))
  console.log(
    `token endpoint: ${server.count("/api/token")} credentials request(s) and ${server.count("/api/refresh")} ` +
      `refresh(es) for ${workers} workers; no refresh token sent twice: ${
        new Set(server.requests().flatMap((entry) => entry.refreshToken ?? [])).size === server.count("/api/refresh")
      }`
  )
  if (codes.some((code) => code !== 0)) process.exitCode = 1
} finally {
  await server.stop()
  await redis.stop()
}
