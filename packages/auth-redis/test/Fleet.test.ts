/**
 * A fleet of processes (`fixtures/worker.mjs`: CairAuth on RedisTokenStore) against the fake Cair server and a real
 * redis-server. Waits for answers and events, never for a time; the bounds asserted are the ones the issue demands,
 * as generous upper bounds.
 */
import { FakeCairServer, RedisServer } from "@cair/auth-testing"
import { describe, expect, it } from "@effect/vitest"
import * as Fleet from "./fixtures/fleet.js"

const credentials = { clientId: "clinic-fleet", clientSecret: "S3CRET-fleet-8c2d" }

const file = Fleet.useFleet({ ...credentials })
const fleet = file.fleet

const tokenRequests = Fleet.tokenRequests

describe("a fleet on one Redis", () => {
  it("12 processes cold: exactly 1 token request, all hold the same token; a later one makes none", async () => {
    const server = await FakeCairServer.start({ credentials })
    try {
      const workers = await fleet(server, 12)
      const answers = await Promise.all(workers.map((worker) => worker.get()))
      expect(answers.every((answer) => answer.get !== null)).toBe(true)
      expect(new Set(answers.map((answer) => answer.get)).size).toBe(1)
      const logs = workers.flatMap((worker) => worker.messages.filter((message) => message.log !== undefined))
      expect(server.count("/api/token"), JSON.stringify(logs)).toBe(1)
      expect(server.count("/api/refresh")).toBe(0)

      const [late] = await fleet(server, 1)
      const answer = await late!.get()
      expect(answer.get).toBe(answers[0]!.get)
      expect(tokenRequests(server)).toBe(1)
    } finally {
      await server.stop()
    }
  }, 120_000)

  it(
    "6 processes over refresh cycles: at most one request per cycle, no refresh token reused, none expired",
    async () => {
      // A 4 s token: refreshed from 2 s on (half its life), not handed out in its last 0.4 s.
      const server = await FakeCairServer.start({ credentials, accessTokenTtlMs: 4_000 })
      try {
        const workers = await fleet(server, 6)
        const seen = new Set<string>()
        // Call until the fleet has been through four refreshes.
        while (server.count("/api/refresh") < 4) {
          const answers = await Promise.all(workers.map((worker) => worker.get()))
          for (const answer of answers) {
            expect(answer.get, answer.error).not.toBeNull()
            // Handed out before it expired, by the caller's own clock.
            expect(answer.at!).toBeLessThan(answer.expiresAt!)
            seen.add(answer.get!)
          }
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        const refreshTokens = server.requests().filter((entry) => entry.path === "/api/refresh").map((entry) =>
          entry.refreshToken
        )
        expect(new Set(refreshTokens).size).toBe(refreshTokens.length)
        // One credentials request, then a chain of refreshes, each with the token the one before issued: a second
        // request in a cycle would have sent a refresh token twice (refused) or fallen back to the credentials.
        expect(server.count("/api/token")).toBe(1)
        // Every token issued was handed out, but perhaps the last (still being adopted when the loop ended).
        expect(tokenRequests(server)).toBeLessThanOrEqual(seen.size + 1)
        expect(server.requests().every((entry) => entry.status === 200)).toBe(true)
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  it(
    "a fleet-wide 401: after a revocation, 6 processes make at most 2 new requests and stop sending the old token",
    async () => {
      const server = await FakeCairServer.start({ credentials })
      try {
        const workers = await fleet(server, 6)
        const first = await Promise.all(workers.map((worker) => worker.get()))
        expect(tokenRequests(server)).toBe(1)
        server.revokeAccessTokens()
        // One process sees the 401 and invalidates its token: every process is told.
        const marks = workers.map((worker) => worker.messages.length)
        workers[0]!.send("invalidate")
        await Promise.all(
          workers.map((worker, i) => worker.next((message) => message.event === "Invalidated", marks[i]))
        )
        const after = await Promise.all(workers.map((worker) => worker.get()))
        expect(after.every((answer) => answer.get !== null && answer.get !== first[0]!.get)).toBe(true)
        expect(new Set(after.map((answer) => answer.get)).size).toBe(1)
        expect(tokenRequests(server) - 1).toBeLessThanOrEqual(2)
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  it("two client ids on one Redis share nothing", async () => {
    const other = { clientId: "clinic-fleet-other", clientSecret: credentials.clientSecret }
    const server = await FakeCairServer.start({ credentials })
    const otherServer = await FakeCairServer.start({ credentials: other })
    try {
      const one = await fleet(server, 3)
      const two = await fleet(otherServer, 3, other)
      const answers = await Promise.all([...one, ...two].map((worker) => worker.get()))
      expect(new Set(answers.map((answer) => answer.get)).size).toBe(2)
      expect(server.count("/api/token")).toBe(1)
      expect(otherServer.count("/api/token")).toBe(1)
    } finally {
      await server.stop()
      await otherServer.stop()
    }
  }, 120_000)
})

describe("a fleet when Redis fails", () => {
  it(
    "kill -9 of the lease holder mid-request: another process gets a token within the bound, 2 requests at most",
    async () => {
      const server = await FakeCairServer.start({ credentials })
      try {
        const requestTimeoutMs = 5_000
        const maxRetries = 1
        // The documented bound: the lease, (maxRetries + 1) × (requestTimeoutMs + 1 000) = 12 s, then a waiter's
        // poll (500 ms) and the next holder's request: within 15 s.
        const leaseMs = (maxRetries + 1) * (requestTimeoutMs + 1_000)
        expect(leaseMs + 500).toBeLessThan(15_000)
        const [holder, ...others] = await fleet(server, 4, { requestTimeoutMs, maxRetries })
        server.inject(FakeCairServer.Fault.Hang(), { path: "/api/token" })
        // Killed below on purpose: its answer never comes, and its rejection must not go unhandled.
        const killed = holder!.get().catch((error: unknown) => error)
        await server.awaitCount(1, "/api/token")
        holder!.child.kill("SIGKILL")
        const killedAt = Date.now()
        const answers = await Promise.all(others.map((worker) => worker.get()))
        expect(await killed).toBeInstanceOf(Error)
        const servedAfterMs = Date.now() - killedAt
        expect(answers.every((answer) => answer.get !== null)).toBe(true)
        expect(new Set(answers.map((answer) => answer.get)).size).toBe(1)
        const tokenRequests = server.requests().filter((entry) => entry.path === "/api/token")
        expect(tokenRequests.length).toBeLessThanOrEqual(2)
        // The bound the issue asks for: the dead holder's lease frees the fleet within 15 s. Freed is when the next
        // holder's request arrives: what comes after (its answer, the workers' replies over IPC) is the machine's
        // speed, not the lease's.
        const freedAfterMs = tokenRequests[1]!.time.getTime() - killedAt
        console.info(
          `kill -9 of the lease holder: the next request ${freedAfterMs} ms after the kill, every worker served after ` +
            `${servedAfterMs} ms`
        )
        expect(freedAfterMs).toBeLessThan(15_000)
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  const outages = [
    {
      name: "Redis killed mid-run, then started again",
      begin: (own: RedisServer.RedisServer) => own.kill(),
      end: (own: RedisServer.RedisServer) => own.relaunch()
    },
    {
      name: "Redis frozen mid-run (SIGSTOP: sockets open, no answers), then resumed (SIGCONT)",
      begin: async (own: RedisServer.RedisServer) => own.pause(),
      end: async (own: RedisServer.RedisServer) => own.resume()
    }
  ]
  for (const outage of outages) {
    it(
      `${outage.name}: every call settles within 5 s, on its own meanwhile; shared again within 10 s`,
      async () => {
        const own = await RedisServer.start({ startTimeoutMs: 60_000 })
        // A 3 s token: each process renews it every 1.5 s, so the outage meets reads, flights and renewals.
        const server = await FakeCairServer.start({ credentials, accessTokenTtlMs: 3_000 })
        try {
          const workers = await fleet(server, 4, { redisUrl: own.url })
          const round = () => Promise.all(workers.map((worker) => worker.get()))
          expect(new Set((await round()).map((answer) => answer.get)).size).toBe(1)

          await outage.begin(own)
          const before = tokenRequests(server)
          const startedAt = Date.now()
          let slowest = 0
          // Until the processes have renewed on their own about twice each.
          while (tokenRequests(server) - before < 8) {
            for (const answer of await round()) {
              expect(answer.get, answer.error).not.toBeNull()
              expect(answer.at!).toBeLessThan(answer.expiresAt!)
              slowest = Math.max(slowest, answer.tookMs!)
            }
            await new Promise((resolve) => setTimeout(resolve, 250))
          }
          // The bound: every call settles within 5 s (at most one command timeout, 2 s, and the request).
          expect(slowest).toBeLessThan(5_000)
          // On its own, each process renews at most once per refresh window (half of the 3 s life), plus one.
          const outageMs = Date.now() - startedAt
          expect(tokenRequests(server) - before).toBeLessThanOrEqual(4 * (Math.ceil(outageMs / 1_500) + 2))

          const marks = workers.map((worker) => worker.messages.length)
          await outage.end(own)
          const back = Date.now()
          // Each process sees Redis answer again (reconnection at most 1 s apart; a PING probe every second) ...
          const rejoined = await Promise.all(workers.map(async (worker, i) => {
            await worker.next((message) => message.message?.includes("answers again") === true, marks[i])
            return Date.now() - back
          }))
          // ... and at its next renewal adopts the fleet's token: a round where all four hold one.
          let together = false
          while (!together) {
            const answers = await round()
            for (const answer of answers) {
              expect(answer.get, answer.error).not.toBeNull()
              expect(answer.tookMs!).toBeLessThan(5_000)
            }
            together = new Set(answers.map((answer) => answer.get)).size === 1
            if (!together) await new Promise((resolve) => setTimeout(resolve, 250))
          }
          const sharedAfterMs = Date.now() - back
          console.info(
            `${outage.name}: slowest call ${slowest} ms; Redis used again after ${rejoined.join(", ")} ms; ` +
              `one token after ${sharedAfterMs} ms`
          )
          // The bound: sharing again within 10 s of Redis coming back.
          expect(Math.max(...rejoined)).toBeLessThan(10_000)
          expect(sharedAfterMs).toBeLessThan(10_000)
          // Without the store no process sent the fleet's refresh token (another may have): none sent twice.
          const sent = Fleet.refreshTokensSent(server)
          expect(new Set(sent).size).toBe(sent.length)
          expect(server.requests().every((entry) => entry.status === 200)).toBe(true)
        } finally {
          await server.stop()
          await own.stop()
        }
      },
      180_000
    )
  }

  it("Redis unreachable at start: each process works on its own", async () => {
    const own = await RedisServer.start({ startTimeoutMs: 60_000 })
    const url = own.url
    await own.stop()
    const server = await FakeCairServer.start({ credentials })
    try {
      const workers = await Fleet.fleet(3, { ...credentials, baseUrl: server.url, redisUrl: url })
      const answers = await Promise.all(workers.map((worker) => worker.get()))
      expect(answers.every((answer) => answer.get !== null && answer.tookMs! < 5_000)).toBe(true)
      expect(server.count("/api/token")).toBe(3)
      // One warning each, naming the host and port only.
      for (const worker of workers) {
        const warnings = worker.messages.filter((message) => message.log === "WARN")
        expect(warnings.filter((message) => message.message?.includes("unavailable")).length).toBe(1)
      }
    } finally {
      await server.stop()
    }
  }, 120_000)

  it("Redis holds no token and no secret after a fleet ran: not plain, base64 or hex", async () => {
    const server = await FakeCairServer.start({ credentials, accessTokenTtlMs: 3_000 })
    try {
      const workers = await fleet(server, 3)
      for (let i = 0; i < 3; i++) await Promise.all(workers.map((worker) => worker.get()))
      const text = await Fleet.redisContents(file.redis.url)
      expect(text.length).toBeGreaterThan(0)
      const issued = server.requests().flatMap((entry) => entry.refreshToken === undefined ? [] : [entry.refreshToken])
      const all = text.join("\n")
      expect(Fleet.findEncoded(all, [credentials.clientSecret, credentials.clientId, ...issued])).toBeUndefined()
      expect(all).not.toMatch(/fake-(?:at|rt)-/)
    } finally {
      await server.stop()
    }
  }, 120_000)
})
