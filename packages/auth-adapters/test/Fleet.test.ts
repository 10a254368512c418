/**
 * A fleet of processes on the Promise adapter (`fixtures/fleetWorker.mjs`: the built `createCairAuthClient` with
 * `redisUrl`) against the fake Cair server and a real redis-server, driven by the same harness as CairAuth's fleet
 * (`@cair/auth-redis`'s test/fixtures/fleet.ts). Waits for answers and events, never for a time; the bounds asserted
 * are the ones the issue demands, as generous upper bounds.
 */
import { FakeCairServer, RedisServer } from "@cair/auth-testing"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import * as Fleet from "../../auth-redis/test/fixtures/fleet.js"

const worker = fileURLToPath(new URL("./fixtures/fleetWorker.mjs", import.meta.url))
const credentials = { clientId: "clinic-adapter-fleet", clientSecret: "S3CRET-adapter-fleet-3b7e" }

const file = Fleet.useFleet({ ...credentials, worker })
const fleet = file.fleet

const round = (workers: ReadonlyArray<Fleet.Worker>) => Promise.all(workers.map((worker) => worker.get()))
const tokenRequests = Fleet.tokenRequests
/**
 * Every answer a token the API accepted (not revoked, not expired). The core hands a token out until `marginMs`
 * (a tenth of a short life) before its expiry: a refusal is a token handed out expired only if the API answered within
 * that margin. A check slower than that (a loaded machine) proves nothing either way.
 */
const expectServed = (answers: ReadonlyArray<Fleet.Message>, marginMs = 5_000) => {
  for (const answer of answers) {
    expect(answer.get, answer.error).not.toBeNull()
    if (!answer.accepted) expect(answer.checkMs, "refused by the API within the margin").toBeGreaterThan(marginMs)
  }
}

describe("a fleet of adapters on one Redis", () => {
  it("12 processes cold: exactly 1 token request, all hold the same token; a later one makes none", async () => {
    const server = await FakeCairServer.start({ credentials })
    try {
      const workers = await fleet(server, 12)
      const answers = await round(workers)
      expectServed(answers)
      expect(new Set(answers.map((answer) => answer.get)).size).toBe(1)
      expect(server.count("/api/token")).toBe(1)
      expect(server.count("/api/refresh")).toBe(0)

      const [late] = await fleet(server, 1)
      expect((await late!.get()).get).toBe(answers[0]!.get)
      expect(tokenRequests(server)).toBe(1)
    } finally {
      await server.stop()
    }
  }, 120_000)

  it(
    "6 processes over refresh cycles: at most one request per cycle, no refresh token reused, none expired",
    async () => {
      // A 4 s token: refreshed from 2 s on (half its life), never handed out in its last moments.
      const server = await FakeCairServer.start({ credentials, accessTokenTtlMs: 4_000 })
      try {
        const workers = await fleet(server, 6)
        const seen = new Set<string>()
        // Call until the fleet has been through four refreshes.
        while (server.count("/api/refresh") < 4) {
          const answers = await round(workers)
          expectServed(answers, 400)
          for (const answer of answers) seen.add(answer.get!)
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        const refreshTokens = Fleet.refreshTokensSent(server)
        expect(new Set(refreshTokens).size).toBe(refreshTokens.length)
        // One credentials request, then a chain of refreshes, each with the token the one before issued: a second
        // request in a cycle would have sent a refresh token twice (refused) or fallen back to the credentials.
        expect(server.count("/api/token")).toBe(1)
        expect(tokenRequests(server)).toBeLessThanOrEqual(seen.size + 1)
        expect(
          server.requests().filter((entry) => entry.path !== "/api/eligibility/v1").every((entry) =>
            entry.status === 200
          )
        ).toBe(true)
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  it(
    "a fleet-wide 401 seen by one adapter's fetch: 6 processes make at most 2 new requests, all served again",
    async () => {
      const server = await FakeCairServer.start({ credentials })
      try {
        const workers = await fleet(server, 6)
        const first = await round(workers)
        expect(tokenRequests(server)).toBe(1)
        server.revokeAccessTokens()
        // One process's API call is refused: its fetch invalidates the token, fleet-wide, and retries with a new one.
        const marks = workers.map((worker) => worker.messages.length)
        workers[0]!.send("fetch")
        const fetched = await workers[0]!.next((message) => message.fetched !== undefined, marks[0])
        expect(fetched.fetched, fetched.error).toBe(200)
        // Every other process is told, and drops the revoked token.
        await Promise.all(
          workers.slice(1).map((worker, i) => worker.next((message) => message.event === "Invalidated", marks[i + 1]))
        )
        const after = await round(workers)
        expectServed(after)
        expect(after.every((answer) => answer.get !== first[0]!.get)).toBe(true)
        expect(new Set(after.map((answer) => answer.get)).size).toBe(1)
        expect(tokenRequests(server) - 1).toBeLessThanOrEqual(2)
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  it("two client ids on one Redis share nothing", async () => {
    const other = { clientId: "clinic-adapter-fleet-other", clientSecret: credentials.clientSecret }
    const server = await FakeCairServer.start({ credentials })
    const otherServer = await FakeCairServer.start({ credentials: other })
    try {
      const one = await fleet(server, 3)
      const two = await fleet(otherServer, 3, other)
      const answers = await round([...one, ...two])
      expectServed(answers)
      expect(new Set(answers.map((answer) => answer.get)).size).toBe(2)
      expect(server.count("/api/token")).toBe(1)
      expect(otherServer.count("/api/token")).toBe(1)
    } finally {
      await server.stop()
      await otherServer.stop()
    }
  }, 120_000)

  it("Redis holds no token and no secret after a fleet of adapters ran: not plain, base64 or hex", async () => {
    const server = await FakeCairServer.start({ credentials, accessTokenTtlMs: 3_000 })
    try {
      const workers = await fleet(server, 3)
      while (server.count("/api/refresh") < 2) {
        expectServed(await round(workers), 300)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      const text = (await Fleet.redisContents(file.redis.url)).join("\n")
      expect(text.length).toBeGreaterThan(0)
      const issued = server.requests().flatMap((entry) => entry.refreshToken === undefined ? [] : [entry.refreshToken])
      expect(issued.length).toBeGreaterThan(0)
      expect(Fleet.findEncoded(text, [credentials.clientSecret, credentials.clientId, ...issued])).toBeUndefined()
      expect(text).not.toMatch(/fake-(?:at|rt)-/)
    } finally {
      await server.stop()
    }
  }, 120_000)
})

describe("a fleet of adapters when a process or Redis fails", () => {
  it(
    "kill -9 of the lease holder mid-request: another process gets a token within the bound, 2 requests at most",
    async () => {
      const server = await FakeCairServer.start({ credentials })
      try {
        // requestTimeoutMs 5000 and maxRetries 1: the lease lasts (1 + 1) × (5 000 + 1 000) = 12 s.
        const [holder, ...others] = await fleet(server, 4, { requestTimeoutMs: 5_000, maxRetries: 1 })
        server.inject(FakeCairServer.Fault.Hang(), { path: "/api/token" })
        // Killed below on purpose: its answer never comes, and its rejection must not go unhandled.
        const killed = holder!.get().catch((error: unknown) => error)
        await server.awaitCount(1, "/api/token")
        holder!.child.kill("SIGKILL")
        const killedAt = Date.now()
        const answers = await round(others)
        const freedAfterMs = Date.now() - killedAt
        expect(await killed).toBeInstanceOf(Error)
        expectServed(answers)
        expect(new Set(answers.map((answer) => answer.get)).size).toBe(1)
        expect(server.count("/api/token")).toBeLessThanOrEqual(2)
        // The bound the issue states: the dead holder's lease (12 s) frees the fleet within 15 s.
        console.info(`adapter fleet, kill -9 of the lease holder: a token ${freedAfterMs} ms after the kill`)
        expect(freedAfterMs).toBeLessThan(15_000)
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  it(
    "Redis stopped mid-run, then started again: every call succeeds, on its own meanwhile, then shared again",
    async () => {
      const own = await RedisServer.start({ startTimeoutMs: 60_000 })
      // A 3 s token: while Redis is down, each process renews it on its own, every refresh window.
      const server = await FakeCairServer.start({ credentials, accessTokenTtlMs: 3_000 })
      try {
        const workers = await fleet(server, 4, { redisUrl: own.url })
        expect(new Set((await round(workers)).map((answer) => answer.get)).size).toBe(1)

        await own.kill()
        const before = tokenRequests(server)
        // Each process's tokens while Redis is down: call until every one has renewed twice on its own.
        const tokens = workers.map(() => new Set<string>())
        let slowestMs = 0
        while (tokens.some((seen) => seen.size < 3)) {
          const answers = await round(workers)
          expectServed(answers, 300)
          answers.forEach((answer, i) => tokens[i]!.add(answer.get!))
          // While Redis is down every call settles within 5 s (the bound: the usual call takes a few
          // milliseconds, and one that waits on the token request well under a second).
          for (const answer of answers) expect(answer.tookMs!).toBeLessThan(5_000)
          slowestMs = Math.max(slowestMs, ...answers.map((answer) => answer.tookMs!))
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        // Bounded: every token requested meanwhile was handed out, but for at most one in flight per process.
        const held = tokens.reduce((sum, seen) => sum + seen.size, 0)
        expect(tokenRequests(server) - before).toBeLessThanOrEqual(held + workers.length)

        await own.relaunch()
        // Sharing again: a round where all four hold one token (the bound only turns a hang into a failure).
        const back = Date.now()
        for (let together = false; !together;) {
          const answers = await round(workers)
          expectServed(answers, 300)
          together = new Set(answers.map((answer) => answer.get)).size === 1
          if (!together) await new Promise((resolve) => setTimeout(resolve, 250))
          expect(Date.now() - back).toBeLessThan(60_000)
        }
        console.info(
          `adapter fleet, Redis down: slowest call ${slowestMs} ms, ${
            tokenRequests(server) - before
          } token requests; one token again ${Date.now() - back} ms after the restart`
        )
      } finally {
        await server.stop()
        await own.stop()
      }
    },
    120_000
  )
})
