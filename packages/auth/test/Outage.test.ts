/**
 * Stop hammering a failing endpoint: 1000 callers, each calling every 250 ms, through a 30-second outage of
 * the fake Cair server (every request answered 503), over real HTTP with time on the `TestClock`.
 *
 * One retry cycle at a time (never more than one request in flight), callers that arrive meanwhile share its
 * outcome, and after it fails the endpoint rests (1 s, doubling, at most 30 s, at least any `Retry-After`)
 * before the next cycle; callers during the rest get the last error at once, without a request.
 */
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as CairAuth from "../src/CairAuth.js"
import type { TokenEvent } from "../src/TokenEvent.js"
import { sleeps, waitFor } from "./utils/harness.js"
import { credentials } from "./utils/secrets.js"

const start = Date.UTC(2026, 0, 1)
const outageMs = 30_000

/**
 * `NodeHttpClient` that counts the requests in flight, from sending to the whole body read (buffered here so
 * that the count covers every byte of I/O): the driver moves the clock only when no request is in flight.
 */
const countingHttp = (counter: { inFlight: number; maxInFlight: number }) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.transform(client, (effect, request) =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            counter.inFlight++
            counter.maxInFlight = Math.max(counter.maxInFlight, counter.inFlight)
          }),
          () =>
            Effect.flatMap(effect, (response) =>
              Effect.map(response.arrayBuffer, (body) =>
                HttpClientResponse.fromWeb(
                  request,
                  new Response(body, { status: response.status, headers: response.headers })
                ))),
          () =>
            Effect.sync(() => counter.inFlight--)
        )))
  ).pipe(Layer.provide(NodeHttpClient.layer))

interface Scenario {
  readonly callers: number
  /** Every caller calls once per round. */
  readonly roundMs: number
  readonly retryAfter?: string
  /** What each caller calls. */
  readonly call: (auth: CairAuth.CairAuth.Service) => Effect.Effect<unknown, unknown>
}

/**
 * Runs the outage and answers what happened: the requests (times after the start, on the server's clock), the
 * calls the callers made, the failed cycles, and the most requests ever in flight at once.
 */
const outage = (scenario: Scenario) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(start)
    const server = yield* FakeCairServer.make({ credentials })
    yield* server.inject(FakeCairServer.Fault.Status({ status: 503, retryAfter: scenario.retryAfter }), {
      times: Number.MAX_SAFE_INTEGER
    })
    const counter = { inFlight: 0, maxInFlight: 0 }
    const context = yield* Layer.build(
      CairAuth.layer({ ...credentials, baseUrl: server.url }).pipe(Layer.provide(countingHttp(counter)))
    )
    const auth = Context.get(context, CairAuth.CairAuth)
    const failures: Array<TokenEvent> = []
    yield* Effect.forkScoped(
      Stream.runForEach(auth.events, (event) => Effect.sync(() => event._tag === "Failed" && failures.push(event)))
    )

    // Every caller calls once per round (every 250 ms) until it has a token; a call may wait for a cycle.
    const round = yield* Ref.make(yield* Deferred.make<void>())
    let calls = 0
    const caller = Effect.gen(function*() {
      while (true) {
        yield* Deferred.await(yield* Ref.get(round))
        calls++
        if (Either.isRight(yield* Effect.either(scenario.call(auth)))) return yield* Clock.currentTimeMillis
      }
    })
    const fibers = yield* Effect.forEach(Array.from({ length: scenario.callers }), () => Effect.fork(caller))
    const allDone = Effect.map(Effect.forEach(fibers, Fiber.poll), (polls) => polls.every(Option.isSome))

    /** Lets every fiber run until it waits, and every request complete. */
    const settle = Effect.gen(function*() {
      while (true) {
        yield* TestClock.adjust(0)
        if (counter.inFlight === 0) return
        yield* waitFor(Effect.sync(() => counter.inFlight === 0), () => "the request in flight to complete")
      }
    })

    let nextRound = start
    let cleared = false
    while (true) {
      yield* settle
      if (yield* allDone) break
      const now = yield* Clock.currentTimeMillis
      if (!cleared && now >= start + outageMs) {
        yield* server.clearFaults
        cleared = true
      }
      if (now >= nextRound) {
        const next = yield* Deferred.make<void>()
        yield* Deferred.succeed(yield* Ref.getAndSet(round, next), void 0)
        nextRound += scenario.roundMs
        continue
      }
      // Jump to whatever comes first: the next round, a sleep of the client (a retry delay), the end of the outage.
      const candidates = [nextRound, ...(yield* sleeps).filter((at) => at > now)]
      if (!cleared) candidates.push(start + outageMs)
      yield* TestClock.setTime(Math.min(...candidates))
    }

    const requests = (yield* server.requests).map((entry) => entry.time.getTime() - start)
    const tokensAt = yield* Effect.forEach(fibers, Fiber.join)
    return { requests, calls, failures, maxInFlight: counter.maxInFlight, tokensAt }
  })

describe("many callers during an outage", () => {
  it.scoped(
    "1000 callers through a 30 s outage cause 20 requests: 5 cycles of 4, resting 1, 2, 4, 8, 16 s after them",
    () =>
      Effect.gen(function*() {
        const { calls, failures, maxInFlight, requests, tokensAt } = yield* outage({
          callers: 1_000,
          roundMs: 250,
          call: (auth) => auth.accessToken
        })
        const during = requests.filter((at) => at < outageMs)
        expect(during).toHaveLength(20)
        expect(requests).toHaveLength(21)
        expect(maxInFlight).toBe(1)
        // Cycles of 1 + 3 retries; each starts no sooner than the rest after the last one.
        expect(failures).toHaveLength(5)
        const cycleStarts = [0, 4, 8, 12, 16].map((i) => during[i]!)
        failures.forEach((failure, i) => {
          if (failure._tag !== "Failed") return
          const cycleEnd = during[4 * i + 3]!
          expect(failure.retryAt.getTime() - start - cycleEnd).toBe(1_000 * 2 ** i)
          const nextStart = i < 4 ? cycleStarts[i + 1]! : requests[20]!
          expect(nextStart).toBeGreaterThanOrEqual(failure.retryAt.getTime() - start)
        })
        // Every caller got the token, from the one request after the outage.
        expect(tokensAt.every((at) => at === start + requests[20]!)).toBe(true)
        expect(calls).toBeGreaterThan(100_000)
        console.log(
          `outage: 1000 callers made ${calls} calls in ${requests[20]! / 1000} s; ` +
            `${during.length} requests during the ${outageMs / 1000} s outage, ${requests.length} in all, at ` +
            `${requests.map((at) => at / 1000).join(", ")} s`
        )
      }),
    60_000
  )

  // The counts do not depend on how many callers call how often: 100 callers once a second run quicker.
  it.scoped(
    "with Retry-After: 7 the cycles wait 7 s between attempts and rest 7 s: 5 requests in the outage",
    () =>
      Effect.gen(function*() {
        const { maxInFlight, requests } = yield* outage({
          callers: 100,
          roundMs: 1_000,
          retryAfter: "7",
          call: (auth) => auth.accessToken
        })
        expect(requests.filter((at) => at < outageMs)).toEqual([0, 7_000, 14_000, 21_000, 28_000])
        expect(requests).toEqual([0, 7_000, 14_000, 21_000, 28_000, 35_000])
        expect(maxInFlight).toBe(1)
      }),
    60_000
  )

  it.scoped("callers forcing a refresh do not skip the rests either", () =>
    Effect.gen(function*() {
      const { maxInFlight, requests } = yield* outage({ callers: 100, roundMs: 1_000, call: (auth) => auth.refresh })
      expect(requests.filter((at) => at < outageMs)).toHaveLength(20)
      expect(requests).toHaveLength(21)
      expect(maxInFlight).toBe(1)
    }), 60_000)
})
