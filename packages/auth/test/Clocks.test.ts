/**
 * The two-clock rule of `CairAuth`: a token is handed out only while both the wall clock and the monotonic
 * clock say it is within its usable life. The clock is `test/utils/twoClocks.ts`: a `TestClock` whose wall
 * reading can move on its own. The scripted server keeps the true time (its clock does not step).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as CairAuth from "../src/CairAuth.js"
import type { RecordedRequest, Reply } from "./fixtures.js"
import { credentials, jsonResponse, scriptedHttp, secrets, tokenResponse } from "./fixtures.js"
import { makeTwoClocks, type TwoClocks } from "./utils/twoClocks.js"

const ttlMs = 600_000
/** The default margin and window of a 10-minute token. */
const usableMs = ttlMs - 5_000
const refreshAtMs = ttlMs - 60_000
const hour = 3_600_000

/** Runs `body` with the client and the scripted server on the two clocks. */
const unavailable = { _tag: "TokenRequestFailed", status: 503 }

/** A 503 (with `headers`) first, then token sets on the true time, with a `Date`: a rest, then a token. */
const unavailableOnce =
  (headers: Record<string, string> = {}) => (clocks: TwoClocks) => (_: RecordedRequest, index: number) =>
    Effect.succeed(
      index === 0
        ? jsonResponse(503, {}, headers)
        : tokenResponse({ n: index, now: clocks.trueNow(), ttlMs, date: clocks.trueNow() })
    )

const withClocks = <A, E>(
  body: (
    clocks: TwoClocks,
    auth: CairAuth.CairAuth.Service,
    http: Effect.Effect.Success<ReturnType<typeof scriptedHttp>>
  ) => Effect.Effect<A, E>,
  respond?: (clocks: TwoClocks) => (request: RecordedRequest, index: number) => Effect.Effect<Reply>,
  options: Partial<CairAuth.Options> = {}
) =>
  Effect.gen(function*() {
    const clocks = yield* makeTwoClocks
    // A server on the true time, with a Date header: it answers token set number `index`.
    const issuing = (_: RecordedRequest, index: number) => {
      const now = clocks.trueNow()
      return Effect.succeed(tokenResponse({ n: index, now, ttlMs, date: now }))
    }
    const run = Effect.gen(function*() {
      const http = yield* scriptedHttp(respond?.(clocks) ?? issuing)
      const context = yield* Layer.build(
        CairAuth.layer({
          ...credentials,
          baseUrl: "https://cair.test",
          retrySchedule: Schedule.exponential("100 millis"),
          ...options
        }).pipe(Layer.provide(http.layer))
      )
      return yield* body(clocks, Context.get(context, CairAuth.CairAuth), http)
    })
    return yield* Effect.withClock(run, clocks.clock)
  })

const generation = (auth: CairAuth.CairAuth.Service) => Effect.map(auth.get, (token) => token.generation)

describe("CairAuth on two clocks", () => {
  it.scoped("while the clocks agree, every read hands out the very same answer", () =>
    withClocks((clocks, auth) =>
      Effect.gen(function*() {
        const first = yield* auth.get
        yield* clocks.adjust("1 minute")
        expect(yield* auth.get).toBe(first)
      })
    ))

  it.scoped("a suspended machine: the wall clock passes the token's life, the monotonic clock does not", () =>
    withClocks((clocks, auth, http) =>
      Effect.gen(function*() {
        const first = yield* auth.get
        yield* clocks.suspend(300_000)
        // Half way: still the token, its deadlines as they were (the wall clock is the one that says less).
        expect(yield* auth.get).toBe(first)
        yield* clocks.suspend(ttlMs)
        const next = yield* auth.get
        expect(next.generation).toBe(2)
        expect(Redacted.value(next.token)).toBe(secrets.accessToken(1))
        expect((yield* http.requests).map((r) => r.path)).toEqual(["/api/token", "/api/refresh"])
      })
    ))

  it.scoped("a wall clock stepped back: the token still ends on time, its deadlines earlier on the wall clock", () =>
    withClocks((clocks, auth, http) =>
      Effect.gen(function*() {
        const first = yield* auth.get
        yield* clocks.adjust("5 minutes")
        yield* clocks.stepWall(-hour)
        const stepped = yield* auth.get
        expect(stepped.generation).toBe(1)
        // On the wall clock as it reads now: what the monotonic clock says remains.
        expect(stepped.usableUntil).toBe(first.usableUntil - hour)
        expect(stepped.refreshAt).toBe(first.refreshAt - hour)
        expect(stepped.expiresAt).toBe(first.expiresAt - hour)
        // Past its usable life by the monotonic clock, with most of an hour left by the wall clock.
        yield* clocks.adjust(usableMs - 300_000)
        expect(yield* generation(auth)).toBe(2)
        expect(yield* http.count()).toBe(2)
      })
    ))

  it.scoped("a wall clock stepped back: the background refresh starts on time by the monotonic clock", () =>
    withClocks((clocks, auth, http) =>
      Effect.gen(function*() {
        yield* auth.get
        yield* clocks.stepWall(-hour)
        yield* clocks.adjust(refreshAtMs - 1)
        expect(yield* generation(auth)).toBe(1)
        expect(yield* http.count()).toBe(1)
        yield* clocks.adjust(1)
        // In the window: the caller keeps the token and a refresh starts behind it.
        expect(yield* generation(auth)).toBe(1)
        yield* http.awaitCount(2)
        expect((yield* http.requests).map((r) => r.path)).toEqual(["/api/token", "/api/refresh"])
      })
    ))

  it.scoped("a wall clock stepped forward: the token ends early, never late, and the next one is corrected", () =>
    withClocks((clocks, auth, http) =>
      Effect.gen(function*() {
        yield* auth.get
        yield* clocks.stepWall(hour)
        const next = yield* auth.get
        expect(next.generation).toBe(2)
        expect(yield* http.count()).toBe(2)
        // The server's Date (an hour behind the stepped local clock) puts the new token's life on this clock.
        const wall = clocks.clock.unsafeCurrentTimeMillis()
        expect(next.usableUntil).toBeGreaterThanOrEqual(wall + usableMs - 1_000)
        expect(next.usableUntil).toBeLessThanOrEqual(wall + usableMs)
        yield* clocks.adjust("5 minutes")
        expect(yield* generation(auth)).toBe(2)
      })
    ))

  it.scoped("a paused process: both clocks pass the token's life with nothing running; the next caller waits", () =>
    withClocks((clocks, auth, http) =>
      Effect.gen(function*() {
        yield* auth.get
        yield* clocks.adjust(ttlMs + 2_400)
        expect(yield* generation(auth)).toBe(2)
        expect(yield* http.count()).toBe(2)
      })
    ))

  it.scoped("a wall clock stepping forward, once or again and again, does not cut a Retry-After rest short", () =>
    withClocks(
      (clocks, auth, http) =>
        Effect.gen(function*() {
          expect(yield* Effect.flip(auth.accessToken)).toMatchObject(unavailable)
          // 300 s asked; the wall clock jumps 10 min ahead every 10 s of real time (was: a request after the first).
          for (let i = 0; i < 29; i++) {
            yield* clocks.adjust("10 seconds")
            yield* clocks.stepWall(10 * 60_000)
            expect(yield* Effect.flip(auth.accessToken)).toMatchObject(unavailable)
          }
          expect(yield* http.count()).toBe(1)
          yield* clocks.adjust("10 seconds")
          expect(yield* generation(auth)).toBe(1)
          expect(yield* http.count()).toBe(2)
        }),
      unavailableOnce({ "retry-after": "300" }),
      { maxRetries: 0 }
    ))

  it.scoped("a wall clock stepped back does not lengthen a rest", () =>
    withClocks(
      (clocks, auth, http) =>
        Effect.gen(function*() {
          expect(yield* Effect.flip(auth.accessToken)).toMatchObject(unavailable)
          yield* clocks.stepWall(-hour)
          expect(yield* Effect.flip(auth.accessToken)).toMatchObject(unavailable)
          expect(yield* http.count()).toBe(1)
          yield* clocks.adjust("1 second")
          expect(yield* generation(auth)).toBe(1)
          expect(yield* http.count()).toBe(2)
        }),
      unavailableOnce(),
      { maxRetries: 0 }
    ))
})
