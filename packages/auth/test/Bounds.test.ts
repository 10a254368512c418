/**
 * A bound on every wait, and no silence: with the default options, a server that accepts and never answers and a
 * port where nothing listens each give the caller a typed error within the documented bound (`maxWaitMs`), and
 * every failed attempt logs a warning; and the worst case the bound counts takes no longer. Over real HTTP on
 * 127.0.0.1 (the worst case on a scripted `HttpClient`); time on the `TestClock`, moved to each instant the client
 * sleeps until once the sockets are quiet, so nothing here waits for real time.
 */
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as CairAuth from "../src/CairAuth.js"
import { maxWaitMs } from "../src/internal/bounds.js"
import { defaultMaxRetries, defaultRequestTimeoutMs } from "../src/internal/options.js"
import { maxRejectionRestMs } from "../src/internal/tokenState.js"
import { captureLogs, credentials, jsonResponse, scriptedHttp, tokenResponse } from "./fixtures.js"
import { awaitExit, sleeps, waitFor } from "./utils/harness.js"

const defaults = { maxRetries: defaultMaxRetries, requestTimeoutMs: defaultRequestTimeoutMs }
const attempts = defaultMaxRetries + 1

/** Moves the `TestClock` to the next instant the client sleeps until, once `ready` holds. */
const wakeNext = <E, R>(ready: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    yield* waitFor(
      Effect.zipWith(ready, sleeps, (ok, pending) => ok && pending.length > 0),
      () => Effect.map(sleeps, (pending) => `the client to sleep (sleeps ${pending})`)
    )
    yield* TestClock.setTime(Math.min(...yield* sleeps))
  })

const clientOn = (baseUrl: string) =>
  Effect.map(
    Layer.build(CairAuth.layer({ ...credentials, baseUrl }).pipe(Layer.provide(NodeHttpClient.layer))),
    (context) => Context.get(context, CairAuth.CairAuth)
  )

const attemptWarnings = (lines: ReadonlyArray<string>) =>
  lines.filter((line) => line.startsWith("WARN") && line.includes(": attempt "))

describe("a bound on every wait", () => {
  it("the documented bound of the defaults: 4 attempts of 10 s, 3 delays of at most 60 s, twice; a 60 s rest", () => {
    expect(maxWaitMs(defaults)).toBe(60_000 + 2 * (4 * 10_000 + 3 * 60_000))
  })

  it.scoped("the worst case: a forced refresh in the longest rest after rejected tokens, then two full cycles", () =>
    Effect.gen(function*() {
      // Until `broken`, the server issues tokens that the API rejects at once; then the refresh token hangs three
      // times and is rejected, and the credentials hang: every attempt times out, every delay is the longest.
      let broken = false
      let refreshes = 0
      const http = yield* scriptedHttp((request, n) => {
        if (!broken) return Effect.succeed(tokenResponse({ n, now: request.at }))
        if (request.path === "/api/refresh" && ++refreshes === attempts) {
          return Effect.succeed(jsonResponse(401, { message: "refresh token revoked" }))
        }
        return Effect.succeed("hang" as const)
      })
      const context = yield* Layer.build(
        CairAuth.layer({ ...credentials, baseUrl: "https://cair.test", retrySchedule: Schedule.spaced("1 hour") })
          .pipe(Layer.provide(http.layer))
      )
      const auth = Context.get(context, CairAuth.CairAuth)
      // Fresh tokens rejected in a row: the rests grow 2, 4, 8, 16, 32 s, and the seventh starts the longest one.
      for (let rejection = 1; rejection <= 7; rejection++) {
        // The first is sent again with a new token; from the second on, the renewals rest.
        expect(yield* auth.rejected(yield* auth.get)).toBe(rejection === 1)
        if (rejection < 7) yield* TestClock.adjust(maxRejectionRestMs)
      }
      broken = true
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(Effect.either(auth.refresh))
      const done = Effect.map(Fiber.poll(fiber), Option.isSome)
      while (!(yield* done)) yield* wakeNext(Effect.map(done, (finished) => !finished))
      const exit = yield* awaitExit(fiber)
      if (!Exit.isSuccess(exit) || Either.isRight(exit.value)) return expect.fail(`expected a typed error: ${exit}`)
      expect(exit.value.left).toMatchObject({ _tag: "TokenRequestFailed", reason: "Timeout" })
      const elapsed = (yield* Clock.currentTimeMillis) - start
      // The rest, then 3 timeouts and 3 delays before the 401, then 4 timeouts and 3 delays.
      expect(elapsed).toBe(maxRejectionRestMs + (3 * 10_000 + 3 * 60_000) + (4 * 10_000 + 3 * 60_000))
      expect(elapsed).toBeLessThanOrEqual(maxWaitMs(defaults))
    }))

  it.scoped("a server that accepts and never answers: Timeout within the bound, a warning per attempt", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.make({ credentials })
      yield* server.inject(FakeCairServer.Fault.Hang(), { path: "/api/token", times: attempts })
      const auth = yield* clientOn(server.url)
      const logs = captureLogs()
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(Effect.either(auth.get).pipe(Effect.provide(logs.layer)))
      for (let attempt = 1; attempt <= attempts; attempt++) {
        // The attempt's request has arrived and the client waits for its timeout; then for the delay.
        yield* wakeNext(Effect.map(server.count(), (count) => count >= attempt))
        if (attempt < attempts) yield* wakeNext(Effect.succeed(true))
      }
      const exit = yield* awaitExit(fiber)
      if (!Exit.isSuccess(exit) || Either.isRight(exit.value)) return expect.fail(`expected a typed error: ${exit}`)
      expect(exit.value.left).toMatchObject({ _tag: "TokenRequestFailed", reason: "Timeout" })
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(elapsed).toBeGreaterThanOrEqual(attempts * defaultRequestTimeoutMs)
      expect(elapsed).toBeLessThanOrEqual(maxWaitMs(defaults))
      expect(yield* server.count()).toBe(attempts)
      const warnings = attemptWarnings(logs.lines)
      expect(warnings).toHaveLength(attempts)
      warnings.forEach((line, i) => {
        expect(line).toContain(`attempt ${i + 1} of ${attempts} failed (Timeout: no complete answer within 10000 ms)`)
        expect(line).toMatch(i + 1 < attempts ? /next attempt in \d+ ms/ : /no more attempts/)
      })
    }))

  it.scoped("a port where nothing listens: Transport within the bound, a warning per attempt", () =>
    Effect.gen(function*() {
      const auth = yield* clientOn("http://127.0.0.1:9")
      const logs = captureLogs()
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(Effect.either(auth.get).pipe(Effect.provide(logs.layer)))
      const done = Effect.map(Fiber.poll(fiber), Option.isSome)
      for (let delay = 1; delay < attempts; delay++) yield* wakeNext(Effect.map(done, (finished) => !finished))
      const exit = yield* awaitExit(fiber)
      if (!Exit.isSuccess(exit) || Either.isRight(exit.value)) return expect.fail(`expected a typed error: ${exit}`)
      expect(exit.value.left).toMatchObject({ _tag: "TokenRequestFailed", reason: "Transport" })
      expect(exit.value.left.message).toContain("ECONNREFUSED")
      expect((yield* Clock.currentTimeMillis) - start).toBeLessThanOrEqual(maxWaitMs(defaults))
      expect(attemptWarnings(logs.lines)).toHaveLength(attempts)
    }))
})
