import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import * as CairAuth from "../src/CairAuth.js"
import type * as CairAuthError from "../src/CairAuthError.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import type { TokenEvent } from "../src/TokenEvent.js"
import * as TokenStore from "../src/TokenStore.js"
import type { RecordedRequest, Reply } from "./fixtures.js"
import {
  allSecrets,
  captureLogs,
  credentials,
  jsonResponse,
  scriptedHttp,
  secrets,
  storedTokenSet,
  tokenResponse
} from "./fixtures.js"

const baseUrl = "https://cair.test"

/** Builds `CairAuth` on a scripted server, in the test's scope. */
const setup = (
  respond: (request: RecordedRequest, index: number) => Effect.Effect<Reply>,
  options: Partial<CairAuth.Options> = {}
) =>
  Effect.gen(function*() {
    const http = yield* scriptedHttp(respond)
    const context = yield* Layer.build(
      CairAuth.layer({ ...credentials, baseUrl, retrySchedule: Schedule.exponential("100 millis"), ...options }).pipe(
        Layer.provide(http.layer)
      )
    )
    return { auth: Context.get(context, CairAuth.CairAuth), http }
  })

/** A server that issues token set number `index` with the given lifetimes at the current time. */
const issuing = (ttlMs = 600_000, refreshTtlMs = 86_400_000) => (request: RecordedRequest, index: number) =>
  Effect.succeed(tokenResponse({ n: index, now: request.at, ttlMs, refreshTtlMs }))

const value = Redacted.value

/** Subscribes now to the next event of a kind; join the fiber to wait for it. */
const nextEvent = (auth: CairAuth.CairAuth.Service, tag: TokenEvent["_tag"]) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Stream.runHead(Stream.filter(auth.events, (event) => event._tag === tag)))
    yield* Effect.yieldNow()
    return fiber
  })

describe("CairAuth", () => {
  it.scoped("1000 concurrent callers on a cold cache cause exactly one request", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { auth, http } = yield* setup((request, index) =>
        Effect.zipRight(Deferred.await(gate), issuing()(request, index))
      )
      const callers = yield* Effect.fork(
        Effect.all(Array.from({ length: 1000 }, () => auth.accessToken), { concurrency: "unbounded" })
      )
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, void 0)
      const tokens = yield* Fiber.join(callers)
      expect(yield* http.count()).toBe(1)
      expect(new Set(tokens.map(value))).toEqual(new Set([secrets.accessToken(0)]))
      expect((yield* http.requests)[0]).toMatchObject({
        path: "/api/token",
        body: { clientId: credentials.clientId, clientSecret: secrets.clientSecret }
      })
    }))

  it.scoped("makes no request while the token is valid and outside the refresh window", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(issuing())
      yield* auth.accessToken
      for (let i = 0; i < 8; i++) {
        yield* TestClock.adjust("1 minute")
        expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(0))
      }
      expect(yield* http.count()).toBe(1)
    }))

  it.scoped("refreshes in the background within the window while callers keep the valid token", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { auth, http } = yield* setup((request, index) =>
        index === 0 ? issuing()(request, index) : Effect.zipRight(Deferred.await(gate), issuing()(request, index))
      )
      yield* auth.accessToken
      yield* TestClock.adjust("570 seconds") // 30 s left: inside the 60 s window
      // The refresh request hangs on the gate, yet callers are answered at once with the old token.
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(0))
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(0))
      yield* http.awaitCount(2)
      expect((yield* http.requests).map((r) => r.path)).toEqual(["/api/token", "/api/refresh"])
      const acquired = yield* nextEvent(auth, "Acquired")
      yield* Deferred.succeed(gate, void 0)
      expect(yield* Fiber.join(acquired)).toMatchObject({
        value: { _tag: "Acquired", source: "refresh", generation: 2 }
      })
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(1))
      expect(yield* http.count()).toBe(2)
    }))

  it.scoped("refreshes with the latest refresh token as they rotate", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(issuing(60_000))
      yield* auth.accessToken
      for (let i = 1; i <= 3; i++) {
        yield* TestClock.adjust("1 minute")
        expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(i))
      }
      const refreshes = (yield* http.requests).filter((r) => r.path === "/api/refresh")
      expect(refreshes.map((r) => r.body.refreshToken)).toEqual([0, 1, 2].map(secrets.refreshToken))
    }))

  it.scoped("falls back to the credentials when the refresh token has expired", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(issuing(60_000, 90_000))
      const events = yield* Stream.runCollect(Stream.take(auth.events, 2)).pipe(Effect.fork)
      yield* Effect.yieldNow()
      yield* auth.accessToken
      yield* TestClock.adjust("2 minutes")
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(1))
      expect((yield* http.requests).map((r) => r.path)).toEqual(["/api/token", "/api/token"])
      const [, fellBack] = yield* Fiber.join(events)
      expect(fellBack).toMatchObject({ _tag: "FellBack", reason: "RefreshTokenExpired" })
    }))

  it.scoped("falls back to the credentials when the refresh token is rejected, without an error", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup((request, index) =>
        request.path === "/api/refresh"
          ? Effect.succeed(jsonResponse(401, { message: "refresh token revoked" }))
          : issuing(60_000)(request, index)
      )
      yield* auth.accessToken
      yield* TestClock.adjust("2 minutes")
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(2))
      expect((yield* http.requests).map((r) => r.path)).toEqual(["/api/token", "/api/refresh", "/api/token"])
    }))

  it.scoped("serves the valid token while a background refresh fails, logs it and tries again later", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const { auth, http } = yield* setup(
        (request, index) =>
          index === 1 ? Effect.succeed(jsonResponse(503, { message: "down" })) : issuing()(request, index),
        { maxRetries: 0 }
      ).pipe(Effect.provide(logs.layer))
      yield* auth.accessToken
      yield* TestClock.adjust("570 seconds")
      const failed = yield* nextEvent(auth, "Failed")
      expect(value(yield* auth.accessToken.pipe(Effect.provide(logs.layer)))).toBe(secrets.accessToken(0))
      expect(yield* Fiber.join(failed)).toMatchObject({ value: { _tag: "Failed", background: true } })
      expect(logs.lines.some((line) => line.startsWith("WARN") && line.includes("still serving"))).toBe(true)
      // Resting: no new request for a second, then the next caller starts one.
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(0))
      expect(yield* http.count()).toBe(2)
      yield* TestClock.adjust("1 second")
      const acquired = yield* nextEvent(auth, "Acquired")
      yield* auth.accessToken
      yield* Fiber.join(acquired)
      expect(yield* http.count()).toBe(3)
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(2))
    }))

  it.scoped("retries 503 with the schedule's spacing, exactly maxRetries times", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(() => Effect.succeed(jsonResponse(503, { message: "down" })))
      const fiber = yield* Effect.fork(Effect.exit(auth.accessToken))
      yield* TestClock.adjust("1 minute")
      const exit = yield* Fiber.join(fiber)
      expect((yield* http.requests).map((r) => r.at)).toEqual([0, 100, 300, 700])
      expect(exit).toMatchObject(Exit.fail({ _tag: "TokenRequestFailed", reason: "Status", status: 503 }))
    }))

  it.scoped("waits for Retry-After (seconds and HTTP date) when it is longer than the backoff", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup((request, index) =>
        index === 0
          ? Effect.succeed(jsonResponse(429, {}, { "retry-after": "2" }))
          : index === 1
          ? Effect.succeed(jsonResponse(503, {}, { "retry-after": new Date(request.at + 5_000).toUTCString() }))
          : issuing()(request, index)
      )
      const fiber = yield* Effect.fork(auth.accessToken)
      yield* TestClock.adjust("1 minute")
      expect(value(yield* Fiber.join(fiber))).toBe(secrets.accessToken(2))
      expect((yield* http.requests).map((r) => r.at)).toEqual([0, 2_000, 7_000])
    }))

  it.scoped("never retries a 401 from the token endpoint", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(() => Effect.succeed(jsonResponse(401, { message: "Invalid credentials" })))
      const error = yield* Effect.flip(auth.accessToken)
      expect(error._tag).toBe("InvalidCredentials")
      expect(error.message).toContain("clinic-42")
      expect(yield* http.count()).toBe(1)
    }))

  it.scoped("fails a bad body as MalformedTokenResponse naming the fields, not their values", () =>
    Effect.gen(function*() {
      const bodies = [
        ["<html>502 Bad Gateway</html>", "the body is not JSON"],
        [{
          accessToken: 1,
          refreshToken: secrets.refreshToken(0),
          expiresAt: "2030-01-01T00:00:00Z",
          refreshTokenExpiresAt: "2030-01-01T00:00:00Z"
        }, "accessToken has the wrong type or format"],
        [{
          accessToken: secrets.accessToken(0),
          expiresAt: "2030-01-01T00:00:00Z",
          refreshTokenExpiresAt: "2030-01-01T00:00:00Z"
        }, "refreshToken is missing"],
        [{
          accessToken: secrets.accessToken(0),
          refreshToken: secrets.refreshToken(0),
          expiresAt: "not a date",
          refreshTokenExpiresAt: "2030-01-01T00:00:00Z"
        }, "expiresAt has the wrong type or format"]
      ] as const
      for (const [body, problem] of bodies) {
        const { auth, http } = yield* setup(() => Effect.succeed(jsonResponse(200, body)))
        const error = yield* Effect.flip(auth.accessToken)
        expect(error).toMatchObject({ _tag: "MalformedTokenResponse", status: 200 })
        expect(error.message).toContain(problem)
        for (const secret of allSecrets()) expect(error.message).not.toContain(secret)
        expect(yield* http.count()).toBe(1)
      }
    }))

  it.scoped("times out a request that never answers, and retries it", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(() => Effect.succeed("hang" as const), {
        requestTimeoutMs: 1_000,
        maxRetries: 1
      })
      const fiber = yield* Effect.fork(Effect.flip(auth.accessToken))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "TokenRequestFailed", reason: "Timeout" })
      expect((yield* http.requests).map((r) => r.at)).toEqual([0, 1_100])
    }))

  it.scoped("an interrupted caller does not cancel the request the others share", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { auth, http } = yield* setup((request, index) =>
        Effect.zipRight(Deferred.await(gate), issuing()(request, index))
      )
      const first = yield* Effect.fork(auth.accessToken)
      const second = yield* Effect.fork(auth.accessToken)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      yield* Deferred.succeed(gate, void 0)
      expect(value(yield* Fiber.join(second))).toBe(secrets.accessToken(0))
      expect(yield* http.count()).toBe(1)
    }))

  it.scoped("a defect inside a token request is a typed TokenRequestFailed, and the rest after it applies", () =>
    Effect.gen(function*() {
      // What a JS `fetch` resolving `undefined` does: a TypeError thrown deep in the HTTP client.
      const { auth, http } = yield* setup((request, index) =>
        index === 0 || index >= 3
          ? issuing(60_000)(request, index)
          : Effect.die(new TypeError(`Cannot read properties of undefined (${secrets.clientSecret})`))
      )
      yield* auth.accessToken
      yield* TestClock.adjust("40 seconds") // in the refresh window (30 s of a 60 s token)
      for (let i = 0; i < 20; i++) {
        // The background refresh dies: the callers keep the valid token, and no second refresh during the rest.
        expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(0))
        yield* Effect.yieldNow()
      }
      expect(yield* http.count()).toBe(2)
      yield* TestClock.adjust("30 seconds") // expired; the 1 s rest is over
      const failures = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.flip(auth.accessToken))
      for (const error of failures) {
        expect(error).toMatchObject({ _tag: "TokenRequestFailed", reason: "Transport" })
        expect(error.message).toContain("TypeError")
        expect(JSON.stringify(error) + error.message).not.toContain(secrets.clientSecret)
      }
      expect(yield* http.count()).toBe(3)
    }))

  it.effect("after its scope closes, every call fails at once with Closed, and a caller waiting gets it too", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { auth, http } = yield* setup((request, index) => index === 0 ? Effect.never : issuing()(request, index))
        .pipe(Scope.extend(scope))
      const waiting = yield* Effect.fork(Effect.flip(auth.get))
      yield* http.awaitCount(1)
      yield* Scope.close(scope, Exit.void)
      // The request under way ends with the scope: its caller gets the typed error (was: an interruption).
      expect(yield* Fiber.join(waiting)).toMatchObject({ _tag: "TokenRequestFailed", reason: "Closed" })
      // A call after the close fails at once, without a request (was: forked into the closed scope, never settled).
      for (const call of [auth.get, auth.accessToken, auth.tokenSet, auth.refresh]) {
        const error = yield* Effect.flip(call as Effect.Effect<unknown, CairAuthError.CairAuthError>)
        expect(error).toMatchObject({ _tag: "TokenRequestFailed", reason: "Closed", isTransient: false })
      }
      expect(yield* http.count()).toBe(1)
    }))

  it.scoped("does not cache a failure: after the rest a later call tries again", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(
        (request, index) => index === 0 ? Effect.succeed("network-error" as const) : issuing()(request, index),
        { maxRetries: 0 }
      )
      expect(yield* Effect.flip(auth.accessToken)).toMatchObject({ _tag: "TokenRequestFailed", reason: "Transport" })
      // During the rest callers share the outcome instead of hammering the endpoint.
      expect(yield* Effect.flip(auth.accessToken)).toMatchObject({ _tag: "TokenRequestFailed" })
      expect(yield* http.count()).toBe(1)
      yield* TestClock.adjust("1 second")
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(1))
    }))

  it.scoped("a token set expired on arrival is never handed out, and does not turn a burst into a burst of requests", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const { auth, http } = yield* setup((request, index) =>
        Effect.succeed(tokenResponse({ n: index, now: request.at - 3_600_000 }))
      ).pipe(Effect.provide(logs.layer))
      const events: Array<TokenEvent> = []
      yield* Effect.forkScoped(Stream.runForEach(auth.events, (event) => Effect.sync(() => events.push(event))))
      yield* Effect.yieldNow()
      const burst = () =>
        Effect.all(Array.from({ length: 500 }, () => Effect.flip(auth.accessToken)), { concurrency: "unbounded" })
      const errors = yield* burst().pipe(Effect.provide(logs.layer))
      for (const error of errors) {
        expect(error).toMatchObject({ _tag: "TokenRequestFailed", reason: "ExpiredOnArrival" })
        expect(error.message).toMatch(/had already expired on arrival.*check this machine's clock and the server's/)
      }
      // The rest: the same error at once.
      yield* burst()
      expect(yield* http.count()).toBe(1)
      expect(logs.lines.some((line) => line.startsWith("WARN") && line.includes("expired on arrival"))).toBe(true)
      expect(events.map((event) => event._tag)).toEqual(["Failed"])
      yield* TestClock.adjust("1 second")
      yield* burst()
      // The next cycle used that set's refresh token (still valid), and got an expired set again.
      expect(yield* http.count()).toBe(2)
      expect((yield* http.requests).map((request) => request.path)).toEqual(["/api/token", "/api/refresh"])
      // Rests grow while it keeps happening (1 s, then 2 s).
      yield* TestClock.adjust("1 second")
      yield* burst()
      expect(yield* http.count()).toBe(2)
      yield* TestClock.adjust("1 second")
      yield* burst()
      expect(yield* http.count()).toBe(3)
      expect(events.map((event) => event._tag)).toEqual(["Failed", "Failed", "Failed"])
    }))

  it.scoped("corrects for a local clock that runs ahead of the server's", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * 3_600_000)
      const skew = 3_600_000 // the local clock is an hour ahead
      const { auth, http } = yield* setup((request, index) =>
        Effect.succeed(tokenResponse({ n: index, now: request.at - skew, date: request.at - skew }))
      )
      const token = yield* auth.get
      expect(token.usableUntil).toBeGreaterThan(10 * 3_600_000 + 500_000)
      yield* TestClock.adjust("5 minutes")
      yield* auth.accessToken
      expect(yield* http.count()).toBe(1)
    }))

  it.scoped("a Date header beyond a day's correction: the shorter lifetime, with a warning", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 0, 1))
      for (const [date, usableFor] of [[0, 2_700], [Date.UTC(3000, 0, 1), undefined]] as const) {
        const logs = captureLogs()
        const { auth, http } = yield* setup((request, index) =>
          Effect.succeed(tokenResponse({ n: index, now: request.at, ttlMs: 3_000, date }))
        ).pipe(Effect.provide(logs.layer))
        const token = yield* Effect.either(auth.get.pipe(Effect.provide(logs.layer)))
        const now = yield* Clock.currentTimeMillis
        // 1970: the 3-second token lives 3 s (was: 56 years). 3000: expired on arrival, never handed out.
        if (usableFor === undefined) {
          expect(Either.isLeft(token) && token.left).toMatchObject({ reason: "ExpiredOnArrival" })
        } else {
          expect(Either.isRight(token) && token.right.usableUntil - now).toBe(usableFor)
        }
        expect(logs.lines.some((line) => line.startsWith("WARN") && line.includes("beyond the 24 h"))).toBe(true)
        expect(yield* http.count()).toBe(1)
      }
    }))

  it.scoped("invalidate during a rest throws the token away but does not end the rest", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(
        (request, index) =>
          index === 1
            ? Effect.succeed(jsonResponse(503, {}, { "retry-after": "999999999" }))
            : issuing()(request, index),
        { maxRetries: 0 }
      )
      yield* auth.accessToken
      yield* auth.invalidate
      const error = yield* Effect.flip(auth.accessToken)
      expect(error).toMatchObject({ _tag: "TokenRequestFailed", status: 503, retryAfterMs: 999_999_999_000 })
      yield* auth.invalidate
      expect(yield* Effect.flip(auth.accessToken)).toBe(error)
      expect(yield* Effect.flip(auth.refresh)).toBe(error)
      expect(yield* http.count()).toBe(2)
      // The rest lasts 5 minutes, not 31 years.
      yield* TestClock.adjust("299 seconds")
      expect(yield* Effect.flip(auth.accessToken)).toBe(error)
      yield* TestClock.adjust("1 second")
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(2))
      expect(yield* http.count()).toBe(3)
    }))

  it.scoped("leaves a short token's life alone when the clocks agree (Date has a one-second resolution)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_900)
      const { auth } = yield* setup((request, index) =>
        Effect.succeed(
          tokenResponse({ n: index, now: request.at, ttlMs: 10_000, date: Math.floor(request.at / 1000) * 1000 })
        )
      )
      const token = yield* auth.get
      expect(token.expiresAt).toBe(1_700_000_000_900 + 10_000)
      expect(token.usableUntil).toBe(1_700_000_000_900 + 9_000)
      expect(token.refreshAt).toBe(1_700_000_000_900 + 5_000)
    }))

  it.scoped("invalidation is generation-aware: a late 401 for a replaced token changes nothing", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(issuing())
      const old = yield* auth.accessToken
      yield* auth.invalidateToken(old)
      const fresh = yield* auth.accessToken
      expect(value(fresh)).toBe(secrets.accessToken(1))
      yield* auth.invalidateToken(old)
      yield* auth.invalidateToken(old)
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(1))
      expect((yield* http.requests).map((r) => r.path)).toEqual(["/api/token", "/api/refresh"])
      yield* auth.invalidate
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(2))
    }))

  it.scoped("a forced refresh joins the request under way", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* setup(issuing())
      yield* auth.accessToken
      const [a, b] = yield* Effect.all([auth.refresh, auth.refresh], { concurrency: "unbounded" })
      expect(a.generation).toBe(2)
      expect(b.generation).toBe(2)
      expect(yield* http.count()).toBe(2)
      expect((yield* auth.tokenSet).expiresAt).toBeInstanceOf(Date)
    }))

  it.scoped("no secret appears in any log line, error or inspected object", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const run = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.All))
      const { auth } = yield* run(setup(
        (request, index) =>
          request.path === "/api/refresh"
            ? Effect.succeed(jsonResponse(400, { message: "bad" }))
            : index < 3
            ? issuing(60_000)(request, index)
            : Effect.succeed(jsonResponse(401, { message: "no" })),
        { maxRetries: 0 }
      ))
      const token = yield* run(auth.get)
      yield* TestClock.adjust("2 minutes")
      yield* run(auth.accessToken)
      yield* run(auth.invalidate)
      const error = yield* run(Effect.flip(auth.accessToken))
      expect(error._tag).toBe("InvalidCredentials")
      const outputs = [
        ...logs.lines,
        error.message,
        String(error),
        inspect(error, { depth: 10 }),
        JSON.stringify(error),
        inspect(token, { depth: 10 }),
        JSON.stringify(token),
        inspect(auth, { depth: 10 })
      ]
      expect(logs.lines.length).toBeGreaterThan(3)
      for (const output of outputs) {
        for (const secret of allSecrets()) expect(output).not.toContain(secret)
      }
    }))
})

describe("CairAuth configuration", () => {
  const fromEnv = (env: Record<string, string>) =>
    Effect.gen(function*() {
      const http = yield* scriptedHttp(issuing())
      const context = yield* Layer.build(CairAuth.layerConfig.pipe(Layer.provide(http.layer))).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
      return { auth: Context.get(context, CairAuth.CairAuth), http }
    })

  it.scoped("reads CAIR_CLIENT_ID, CAIR_CLIENT_SECRET and CAIR_BASE_URL", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* fromEnv({
        CAIR_CLIENT_ID: "clinic-7",
        CAIR_CLIENT_SECRET: secrets.clientSecret,
        CAIR_BASE_URL: "http://127.0.0.1:8080"
      })
      yield* auth.accessToken
      expect((yield* http.requests)[0].body).toEqual({ clientId: "clinic-7", clientSecret: secrets.clientSecret })
    }))

  it.scoped("names the missing or invalid variable, never a value", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(fromEnv({ CAIR_CLIENT_SECRET: secrets.clientSecret }))
      expect(String(missing)).toContain("CAIR_CLIENT_ID")
      const badUrl = yield* Effect.flip(
        fromEnv({ CAIR_CLIENT_ID: "c", CAIR_CLIENT_SECRET: secrets.clientSecret, CAIR_BASE_URL: "http://cair.example" })
      )
      expect(String(badUrl)).toContain("CAIR_BASE_URL")
      expect(String(badUrl)).toContain("https:")
      for (const error of [missing, badUrl]) expect(inspect(error, { depth: 10 })).not.toContain(secrets.clientSecret)
    }))

  it("validateOptions accepts good options and explains bad ones", () => {
    expect(Either.isRight(CairAuth.validateOptions({ ...credentials, baseUrl: "http://localhost:3000" }))).toBe(true)
    expect(Either.isRight(CairAuth.validateOptions({ ...credentials, baseUrl: "http://[::1]:3000" }))).toBe(true)
    const bad = [
      [{ baseUrl: "https://user:pw@cair.test" }, "user name or password"],
      [{ baseUrl: "https://cair.test/?a=1" }, "query"],
      [{ refreshWindowMs: Number.NaN }, "refreshWindowMs"],
      [{ requestTimeoutMs: 0 }, "> 0"]
    ] as const
    for (const [options, text] of bad) {
      const result = CairAuth.validateOptions({ ...credentials, ...options })
      expect(Either.isLeft(result) && result.left.message).toContain(text)
    }
  })
})

describe("CairAuth with a TokenStore", () => {
  const client = { clientId: credentials.clientId, baseUrl, clientSecret: undefined }
  const withStoreOn = (respond: (request: RecordedRequest, index: number) => Effect.Effect<Reply>) =>
    Effect.gen(function*() {
      const http = yield* scriptedHttp(respond)
      const store = yield* TokenStore.makeMemory
      const slot = yield* store.forClient(client)
      const start = CairAuth.make({ clientId: credentials.clientId, baseUrl }).pipe(
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(TokenEndpoint.layer({ ...credentials, baseUrl }).pipe(Layer.provide(http.layer)))
      )
      return { start, slot, http }
    })
  const withStore = withStoreOn(issuing())

  const storedAt = storedTokenSet

  it.scoped("starts from a persisted token and adopts one another process stored", () =>
    Effect.gen(function*() {
      const { http, slot, start } = yield* withStore
      yield* slot.put(storedAt(0, 7), Option.none())
      const auth = yield* start
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(7))
      yield* TestClock.adjust("590 seconds")
      const seen = yield* slot.latest
      yield* slot.put(storedAt(590_000, 8), Option.map(seen, (entry) => entry.version))
      yield* TestClock.adjust("5 seconds")
      expect(value((yield* auth.refresh).token)).toBe(secrets.accessToken(8))
      expect(yield* http.count()).toBe(0)
    }))

  it.scoped("gives a shared token written on a skewed clock the shorter of its lives on this clock", () =>
    Effect.gen(function*() {
      const { http, slot, start } = yield* withStore
      const hour = 3_600_000
      // The writer's wall clock ran 1 h ahead (behind): its `Date` correction holds for its clock, not this one.
      for (const [n, writerSkew] of [[7, hour], [8, -hour]] as const) {
        const now = yield* Clock.currentTimeMillis
        const seen = yield* slot.latest
        yield* slot.put(
          { ...storedAt(now, n), sentAt: now + writerSkew, receivedAt: now + writerSkew, serverDate: now },
          Option.map(seen, (entry) => entry.version)
        )
        const auth = yield* start
        const token = yield* auth.get
        if (writerSkew > 0) {
          // Adopted, and served no later than the server's expiry less the margin (was: 1 h past it).
          expect(value(token.token)).toBe(secrets.accessToken(n))
          expect(token.usableUntil).toBe(now + 600_000 - 5_000)
        } else {
          // Corrected for the writer's clock, it has expired already: this process renews on its own.
          expect(value(token.token)).not.toBe(secrets.accessToken(n))
          expect(token.usableUntil).toBeLessThanOrEqual(now + 600_000)
        }
      }
      expect(yield* http.count()).toBe(1)
    }))

  it.scoped("a token set expired on arrival is judged by the core before the store sees it: never shared", () =>
    Effect.gen(function*() {
      // Every set the server issues had expired an hour before it arrived.
      const { http, slot, start } = yield* withStoreOn((request, index) =>
        Effect.succeed(tokenResponse({ n: index, now: request.at - 3_600_000 }))
      )
      const auth = yield* start
      expect(yield* Effect.flip(auth.accessToken)).toMatchObject({ reason: "ExpiredOnArrival" })
      expect(yield* http.count()).toBe(1)
      // Was: the set was written before the core judged it, and the fleet read an expired token from the store.
      expect(Option.isNone(yield* slot.latest)).toBe(true)
    }))

  it.scoped("a holder's set expired on arrival leaves the fleet's token; its next cycle sends that set's refresh token", () =>
    Effect.gen(function*() {
      // The first refresh brings a set that expired an hour ago; the second a good one.
      const { http, slot, start } = yield* withStoreOn((request, index) =>
        Effect.succeed(tokenResponse({ n: 20 + index, now: index === 0 ? request.at - 3_600_000 : request.at }))
      )
      const shared = Option.getOrThrow(yield* slot.put(storedAt(0, 7), Option.none()))
      const auth = yield* start
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(7))
      expect(yield* Effect.flip(auth.refresh)).toMatchObject({ reason: "ExpiredOnArrival" })
      // The fleet's token is untouched (a late joiner adopts it); its refresh token was sent, so it stays claimed.
      const after = Option.getOrThrow(yield* slot.latest)
      expect(after.version).toBe(shared.version)
      expect(after.refreshClaimed).toBe(true)
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(7))
      // After the rest: the refresh token of the refused set, which only this process holds; not the credentials.
      yield* TestClock.adjust("1 second")
      expect(value((yield* auth.refresh).token)).toBe(secrets.accessToken(21))
      const requests = yield* http.requests
      expect(requests.map((request) => [request.path, request.body.refreshToken])).toEqual([
        ["/api/refresh", secrets.refreshToken(7)],
        ["/api/refresh", secrets.refreshToken(20)]
      ])
      const latest = Option.getOrThrow(yield* slot.latest)
      expect(value(latest.tokens.tokens.accessToken)).toBe(secrets.accessToken(21))
    }))

  it.scoped("during a store outage the fleet's refresh token is not sent: the credentials; its own refresh token is", () =>
    Effect.gen(function*() {
      const http = yield* scriptedHttp(issuing())
      const memory = yield* TokenStore.makeMemory
      let down = false
      const guard = <A>(effect: Effect.Effect<A, TokenStore.TokenStoreError>) =>
        Effect.suspend(() =>
          down
            ? new TokenStore.TokenStoreError({
              reason: "Unavailable",
              operation: "test",
              description: "the store is down"
            })
            : effect
        )
      // The memory store, but every operation fails while `down`: an outage, as a Redis store reports it.
      const store = TokenStore.TokenStore.of({
        forClient: (forClient) =>
          Effect.map(memory.forClient(forClient), (slot): TokenStore.Slot => ({
            latest: guard(slot.latest),
            put: (tokens, expected) => guard(slot.put(tokens, expected)),
            invalidate: (version) => guard(slot.invalidate(version)),
            acquireLease: (ttlMs) => guard(slot.acquireLease(ttlMs)),
            releaseLease: (lease) => guard(slot.releaseLease(lease)),
            claimRefresh: (lease, version) => guard(slot.claimRefresh(lease, version)),
            unclaimRefresh: (lease, version) => guard(slot.unclaimRefresh(lease, version)),
            awaitChange: (seen, maxWaitMs) => guard(slot.awaitChange(seen, maxWaitMs)),
            changes: slot.changes
          }))
      })
      const slot = yield* memory.forClient(client)
      yield* slot.put(storedAt(0, 7), Option.none())
      const auth = yield* CairAuth.make({ clientId: credentials.clientId, baseUrl }).pipe(
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(TokenEndpoint.layer({ ...credentials, baseUrl }).pipe(Layer.provide(http.layer)))
      )
      // The fleet's token, adopted: every process of the fleet holds its refresh token.
      expect(value(yield* auth.accessToken)).toBe(secrets.accessToken(7))
      down = true
      expect(value((yield* auth.refresh).token)).toBe(secrets.accessToken(0))
      // That one it got on its own: its refresh token is nobody else's.
      expect(value((yield* auth.refresh).token)).toBe(secrets.accessToken(1))
      expect((yield* http.requests).map((request) => [request.path, request.body.refreshToken])).toEqual([
        ["/api/token", undefined],
        ["/api/refresh", secrets.refreshToken(0)]
      ])
    }))

  it.scoped("does not start from a shared token that was invalidated", () =>
    Effect.gen(function*() {
      const { http, slot, start } = yield* withStore
      const written = yield* slot.put(storedAt(0, 7), Option.none())
      expect(yield* slot.invalidate(Option.getOrThrow(written).version)).toBe(true)
      const auth = yield* start
      expect(value(yield* auth.accessToken)).not.toBe(secrets.accessToken(7))
      expect(yield* http.count()).toBe(1)
    }))
})

describe("the package entry point", () => {
  it("exports every public module", async () => {
    const entry = await import("../src/index.js")
    expect(Object.keys(entry).sort()).toEqual([
      "CairAuth",
      "CairAuthError",
      "CairAuthMap",
      "CairAuthMetrics",
      "CairAuthTest",
      "CairHttpClient",
      "ErrorMessage",
      "TokenEndpoint",
      "TokenEvent",
      "TokenScope",
      "TokenSet",
      "TokenStore",
      "TokenStoreConformance"
    ])
  })
})
