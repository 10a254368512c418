/**
 * The edges of a fleet on one Redis (issue 12), with worker processes (`fixtures/worker.mjs`: CairAuth on
 * RedisTokenStore) against the fake Cair server and a real redis-server: the first call of a process whose
 * connection is not up yet, a process that slept through refreshes, a late 401, a set expired on arrival. The tests
 * wait for answers and events, never for a time. The outages and their time bounds are in `Fleet.test.ts`.
 */
import { FakeCairServer } from "@cair/auth-testing"
import { describe, expect, it } from "@effect/vitest"
import * as Fleet from "./fixtures/fleet.js"

const credentials = { clientId: "clinic-fleet-bounds", clientSecret: "S3CRET-fleet-bounds-5e1f" }

const file = Fleet.useFleet({ ...credentials })
const fleet = file.fleet

const tokenRequests = Fleet.tokenRequests
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** No refresh token was sent twice, none was refused, and the credentials were used `credentials` times. */
const rotationHeld = (server: FakeCairServer.Handle, credentialsRequests: number) => {
  const sent = Fleet.refreshTokensSent(server)
  expect(new Set(sent).size).toBe(sent.length)
  expect(server.requests().every((entry) => entry.status === 200)).toBe(true)
  expect(server.count("/api/token")).toBe(credentialsRequests)
}

const fellBack = (workers: ReadonlyArray<Fleet.Worker>) =>
  workers.flatMap((worker) => worker.messages.filter((message) => message.event === "FellBack"))

describe("a fleet's edges", () => {
  it(
    "a process whose first call comes before its connection is up waits for it and takes the shared token",
    async () => {
      const server = await FakeCairServer.start({ credentials })
      try {
        const workers = await fleet(server, 2)
        const shared = (await Promise.all(workers.map((worker) => worker.get())))[0]!.get
        expect(tokenRequests(server)).toBe(1)
        // A frozen Redis accepts the connection and answers nothing: the new process's connection cannot get ready.
        file.redis.pause()
        try {
          // Not `fleet`: its connection cannot be up before the resume.
          const [late] = await Fleet.fleet(1, { ...credentials, baseUrl: server.url, redisUrl: file.redis.url })
          const answer = late!.get()
          file.redis.resume()
          expect((await answer).get).toBe(shared)
        } finally {
          file.redis.resume()
        }
        expect(tokenRequests(server)).toBe(1)
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  it(
    "a process that slept (SIGSTOP) through several refreshes renews with the latest refresh token, never the credentials",
    async () => {
      // A 4 s token: the fleet refreshes it from 2 s on.
      const server = await FakeCairServer.start({ credentials, accessTokenTtlMs: 4_000 })
      try {
        const [sleeper, ...others] = await fleet(server, 4)
        const first = await sleeper!.get()
        await Promise.all(others.map((worker) => worker.get()))
        sleeper!.child.kill("SIGSTOP")
        try {
          // The others go through three refreshes while it sleeps.
          const refreshes = server.count("/api/refresh")
          while (server.count("/api/refresh") < refreshes + 3) {
            await Promise.all(others.map((worker) => worker.get()))
            await sleep(250)
          }
        } finally {
          sleeper!.child.kill("SIGCONT")
        }
        const woke = await sleeper!.get()
        expect(woke.get, woke.error).not.toBeNull()
        expect(woke.get).not.toBe(first.get)
        expect(woke.at!).toBeLessThan(woke.expiresAt!)
        rotationHeld(server, 1)
        expect(fellBack([sleeper!, ...others])).toEqual([])
      } finally {
        await server.stop()
      }
    },
    120_000
  )

  it("a late 401 for an old token leaves the fleet's newer token alone", async () => {
    const server = await FakeCairServer.start({ credentials })
    try {
      const [late, renewer, other] = await fleet(server, 3)
      const old = (await Promise.all([late!, renewer!, other!].map((worker) => worker.get())))[0]!.get!
      // One process renews: the fleet's token is a new one, while the others still hold the old one.
      const newer = (await renewer!.refresh()).get!
      expect(newer).not.toBe(old)
      expect(tokenRequests(server)).toBe(2)
      const marks = [renewer!, other!].map((worker) => worker.messages.length)
      // The API's 401 for the old token arrives late at one process: it drops the old token, and only it.
      late!.send(`rejected ${old}`)
      expect((await late!.next((message) => message.rejected !== undefined)).rejected).toBe(true)
      // It takes the fleet's newer token (still shared, not invalidated); nobody requests.
      expect((await late!.get()).get).toBe(newer)
      expect((await renewer!.get()).get).toBe(newer)
      const [joiner] = await fleet(server, 1)
      expect((await joiner!.get()).get).toBe(newer)
      expect(tokenRequests(server)).toBe(2) // No process was told to drop a token.
      ;[renewer!, other!].forEach((worker, i) =>
        expect(worker.messages.slice(marks[i]).filter((message) => message.event === "Invalidated")).toEqual([])
      )
    } finally {
      await server.stop()
    }
  }, 120_000)

  it(
    "a token set expired on arrival is never shared: the fleet keeps its token, and the holder's next cycle uses that set's refresh token",
    async () => {
      const server = await FakeCairServer.start({ credentials })
      try {
        const [holder, other] = await fleet(server, 2)
        const shared = (await Promise.all([holder!, other!].map((worker) => worker.get())))[0]!.get
        server.inject(FakeCairServer.Fault.ExpiredTokenSet(), { path: "/api/refresh", times: 1 })
        const refused = await holder!.refresh()
        expect(refused.get).toBeNull()
        expect(refused.error).toMatch(/expired on arrival/)
        // Redis still holds the fleet's token: a process that starts now adopts it, without a request.
        const [joiner] = await fleet(server, 1)
        expect((await joiner!.get()).get).toBe(shared)
        expect((await other!.get()).get).toBe(shared)
        expect(tokenRequests(server)).toBe(2)
        // After the rest (1 s), the holder's next cycle sends the refused set's refresh token: no credentials.
        let renewed = await holder!.refresh()
        while (renewed.get === null) {
          await sleep(250)
          renewed = await holder!.refresh()
        }
        expect(renewed.get).not.toBe(shared)
        rotationHeld(server, 1)
        expect(server.count("/api/refresh")).toBe(2)
        expect(fellBack([holder!, other!, joiner!])).toEqual([])
      } finally {
        await server.stop()
      }
    },
    120_000
  )
})
