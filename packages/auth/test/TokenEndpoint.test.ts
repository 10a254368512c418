import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { TokenRequestFailed } from "../src/CairAuthError.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import { captureLogs, credentials, jsonResponse, scriptedHttp, secrets, tokenResponse } from "./fixtures.js"
import type { Reply } from "./fixtures.js"

const endpointOn = (reply: (path: string) => Reply, options: Partial<TokenEndpoint.TokenEndpointOptions> = {}) =>
  Effect.gen(function*() {
    const http = yield* scriptedHttp((request) => Effect.succeed(reply(request.path)))
    const endpoint = yield* TokenEndpoint.make({
      ...credentials,
      baseUrl: "http://127.0.0.1:9/base/",
      retrySchedule: Schedule.spaced("10 millis"),
      ...options
    }).pipe(Effect.provide(http.layer))
    return { endpoint, http }
  })

describe("TokenEndpoint", () => {
  it.effect("posts the credentials and the refresh token as JSON under the base path", () =>
    Effect.gen(function*() {
      const { endpoint, http } = yield* endpointOn(() => tokenResponse({ n: 1, now: 0, date: 0 }))
      const issued = yield* endpoint.requestToken
      yield* endpoint.refresh(issued.tokens.refreshToken)
      expect(Redacted.value(issued.tokens.accessToken)).toBe(secrets.accessToken(1))
      expect(issued.serverDate).toBe(0)
      expect((yield* http.requests).map(({ body, path }) => ({ body, path }))).toEqual([
        { path: "/base/api/token", body: { clientId: credentials.clientId, clientSecret: secrets.clientSecret } },
        { path: "/base/api/refresh", body: { refreshToken: secrets.refreshToken(1) } }
      ])
    }))

  it.effect("turns a 4xx from /api/refresh into RefreshTokenRejected, without retrying", () =>
    Effect.gen(function*() {
      for (const status of [400, 401, 403, 404]) {
        const { endpoint, http } = yield* endpointOn(() => jsonResponse(status, { message: "expired" }))
        expect(yield* Effect.flip(endpoint.refresh(Redacted.make("x")))).toMatchObject({
          _tag: "RefreshTokenRejected",
          status
        })
        expect(yield* http.count()).toBe(1)
      }
    }))

  it.effect("fails other 4xx from /api/token at once, and transient statuses after the retries", () =>
    Effect.gen(function*() {
      const notFound = yield* endpointOn(() => jsonResponse(404, {}))
      const error = yield* Effect.flip(notFound.endpoint.requestToken)
      expect(error).toMatchObject({ _tag: "TokenRequestFailed", reason: "Status", status: 404 })
      expect(error.message).toContain("HTTP 404")
      expect(yield* notFound.http.count()).toBe(1)
      for (const status of [408, 429, 500, 502]) {
        const failing = yield* endpointOn(() => jsonResponse(status, {}), { maxRetries: 2 })
        const fiber = yield* Effect.fork(Effect.flip(failing.endpoint.requestToken))
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toMatchObject({ status })
        expect(yield* failing.http.count()).toBe(3)
      }
    }))

  it.effect("refuses a body larger than a token set could be", () =>
    Effect.gen(function*() {
      const { endpoint } = yield* endpointOn(() => jsonResponse(200, "x".repeat(200_000)))
      expect(yield* Effect.flip(endpoint.requestToken)).toMatchObject({
        _tag: "MalformedTokenResponse",
        problems: ["the body is larger than 65536 bytes"]
      })
    }))

  it.effect("ignores extra fields and reports an empty body", () =>
    Effect.gen(function*() {
      const extra = yield* endpointOn(() =>
        jsonResponse(200, {
          accessToken: "a",
          refreshToken: "r",
          expiresAt: "2030-01-01T00:00:00Z",
          refreshTokenExpiresAt: "2030-01-02T00:00:00Z",
          scope: "eligibility"
        })
      )
      expect((yield* extra.endpoint.requestToken).tokens.expiresAt.toISOString()).toBe("2030-01-01T00:00:00.000Z")
      const empty = yield* endpointOn(() => new Response("", { status: 200 }))
      expect(yield* Effect.flip(empty.endpoint.requestToken)).toMatchObject({ problems: ["the body is empty"] })
    }))

  it.effect("names the field of a deeply nested value without formatting the value (no RangeError)", () =>
    Effect.gen(function*() {
      // 60 KB, under the size cap: a formatter that shows the actual value recurses 30 000 levels deep.
      const deep = `{"accessToken":${"[".repeat(30_000)}${"]".repeat(30_000)}}`
      const { endpoint } = yield* endpointOn(() => jsonResponse(200, deep))
      const error = yield* Effect.flip(endpoint.requestToken)
      expect(error).toMatchObject({ _tag: "MalformedTokenResponse", status: 200 })
      expect((error as { problems: ReadonlyArray<string> }).problems).toEqual([
        "accessToken has the wrong type or format"
      ])
    }))

  it.effect("rejects invalid options as an InvalidOptions defect that names the option", () =>
    Effect.gen(function*() {
      const cases = [
        [{ baseUrl: "http://cair.example.com" }, "baseUrl"],
        [{ baseUrl: "not a url" }, "baseUrl"],
        [{ clientId: "" }, "clientId"],
        [{ clientSecret: "" }, "clientSecret"],
        [{ requestTimeoutMs: -1 }, "requestTimeoutMs"],
        [{ maxRetries: 1.5 }, "maxRetries"]
      ] as const
      for (const [options, option] of cases) {
        const exit = yield* Effect.exit(endpointOn(() => "hang", options))
        expect(exit).toMatchObject(Exit.die({ _tag: "InvalidOptions", option }))
        expect(JSON.stringify(exit)).not.toContain(secrets.clientSecret)
      }
    }))

  it.effect("logs each failed attempt at warning: its number, the reason, the next delay; then why it stops", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const { endpoint } = yield* endpointOn(() => jsonResponse(503, { message: "down" }), { maxRetries: 2 })
      const fiber = yield* Effect.fork(Effect.flip(endpoint.requestToken).pipe(Effect.provide(logs.layer)))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const prefix = "Cair token request to http://127.0.0.1:9/base/api/token: attempt"
      expect(logs.lines.filter((line) => line.includes(prefix))).toEqual([
        `WARN ["${prefix} 1 of 3 failed (Status HTTP 503: server error); next attempt in 10 ms"] []`,
        `WARN ["${prefix} 2 of 3 failed (Status HTTP 503: server error); next attempt in 10 ms"] []`,
        `WARN ["${prefix} 3 of 3 failed (Status HTTP 503: server error); no more attempts"] []`
      ])
    }))

  it.effect("a Retry-After of any length: a finite delay on the error, and the cycle ends rather than wait", () =>
    Effect.gen(function*() {
      for (
        const [header, retryAfterMs] of [["9000000000000", 9e15], ["9".repeat(400), Number.MAX_SAFE_INTEGER]] as const
      ) {
        const logs = captureLogs()
        const { endpoint, http } = yield* endpointOn(() => jsonResponse(503, {}, { "retry-after": header }))
        const error = yield* Effect.flip(endpoint.requestToken).pipe(Effect.provide(logs.layer))
        expect(error).toMatchObject({ _tag: "TokenRequestFailed", status: 503, retryAfterMs })
        expect(yield* http.count()).toBe(1)
        expect(logs.lines.some((line) => line.includes("asked to wait longer than 60000 ms"))).toBe(true)
      }
    }))

  it.effect("reads Retry-After strictly: delta-seconds or an IMF-fixdate, the first of a list, else nothing", () =>
    Effect.gen(function*() {
      const now = Date.UTC(2026, 11, 1, 12, 0, 0)
      yield* TestClock.setTime(now)
      const at = (ms: number) => new Date(now + ms).toUTCString()
      const cases: ReadonlyArray<readonly [Record<string, string>, number | undefined]> = [
        [{ "retry-after": "10, 10" }, 10_000], // two headers joined (was: 10 October 2001, a wait of 0)
        [{ "retry-after": `${at(7_000)}, ${at(9_000)}` }, 7_000],
        [{ "retry-after": at(2_000) }, 2_000],
        // A Date beyond the 24 h a correction may span: the local clock (was: 56 years from 1970).
        [{ "retry-after": at(2_000), date: "Thu, 01 Jan 1970 00:00:00 GMT" }, 2_000],
        // A Date within it: the server's clock.
        [{ "retry-after": at(2_000), date: at(-3_600_000) }, 3_602_000],
        [{ "retry-after": "10 Oct 2001" }, undefined],
        [{ "retry-after": "Tuesday, 01-Dec-26 12:00:05 GMT" }, undefined],
        [{ "retry-after": "Tue, 30 Feb 2026 12:00:05 GMT" }, undefined],
        [{ "retry-after": "-5" }, undefined],
        [{ "retry-after": "1.5" }, undefined]
      ]
      for (const [headers, retryAfterMs] of cases) {
        const { endpoint } = yield* endpointOn(() => jsonResponse(503, {}, headers), { maxRetries: 0 })
        const error = yield* Effect.flip(endpoint.requestToken)
        expect(error, JSON.stringify(headers)).toMatchObject({ _tag: "TokenRequestFailed", status: 503 })
        expect((error as { retryAfterMs?: number }).retryAfterMs, JSON.stringify(headers)).toBe(retryAfterMs)
      }
    }))

  it.scopedLive(
    "lets go of an error body it does not read: one that never ends keeps no socket",
    () =>
      Effect.gen(function*() {
        // A proxy streaming an error page without end, on 127.0.0.1; each connection's close is an event.
        const closed = yield* Queue.unbounded<void>()
        const server = http.createServer((request, response) => {
          request.resume()
          response.writeHead(503, { "content-type": "text/html" })
          const timer = setInterval(() => response.write("<p>still down</p>\n"), 20)
          response.on("close", () => {
            clearInterval(timer)
            Queue.unsafeOffer(closed, void 0)
          })
        })
        yield* Effect.acquireRelease(
          Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
          () => Effect.sync(() => (server.closeAllConnections(), server.close()))
        )
        const { port } = server.address() as AddressInfo
        for (const client of [FetchHttpClient.layer, NodeHttpClient.layer]) {
          const endpoint = yield* TokenEndpoint.make({
            ...credentials,
            baseUrl: `http://127.0.0.1:${port}`,
            maxRetries: 0
          })
            .pipe(Effect.provide(client))
          expect(yield* Effect.flip(endpoint.requestToken)).toMatchObject({ _tag: "TokenRequestFailed", status: 503 })
          // The client closed the connection (was: it stayed open, and the process alive, until the server gave up).
          yield* Queue.take(closed)
        }
      }),
    60_000
  )

  it.effect("a retrySchedule's delays are cut to 60 s each, so that the options bound a cycle", () =>
    Effect.gen(function*() {
      const http = yield* scriptedHttp(() => Effect.succeed(jsonResponse(503, {})))
      const endpoint = yield* TokenEndpoint.make({
        ...credentials,
        baseUrl: "https://cair.test",
        requestTimeoutMs: 1_000,
        maxRetries: 2,
        retrySchedule: Schedule.spaced("1 hour")
      }).pipe(Effect.provide(http.layer))
      const fiber = yield* Effect.fork(Effect.flip(endpoint.requestToken))
      yield* TestClock.adjust("3 minutes")
      expect(yield* Fiber.join(fiber)).toMatchObject({ status: 503 })
      expect((yield* http.requests).map((request) => request.at)).toEqual([0, 60_000, 120_000])
    }))
})

describe("the default retry schedule", () => {
  /** Exponential from 200 ms, capped at 5 s: the delay before jitter. */
  const base = (retry: number) => Math.min(200 * 2 ** retry, 5_000)
  const failure = new TokenRequestFailed({
    endpoint: "https://cair.test/api/token",
    reason: "Transport",
    description: "x"
  })
  /** The first ten delays of the default schedule in a process whose `Random` has this seed. */
  const delaysWith = (seed: number) =>
    Schedule.run(Schedule.delays(TokenEndpoint.defaultRetrySchedule), 0, Array.from({ length: 10 }, () => failure))
      .pipe(
        Effect.map((delays) => Chunk.toReadonlyArray(delays).map(Duration.toMillis)),
        Effect.withRandom(Random.make(seed))
      )

  it.effect("jitters every delay by up to 20%, the capped ones too: a fleet does not retry in lockstep", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.forEach([1, 2, 3], delaysWith)
      for (const delays of runs) {
        expect(delays).toHaveLength(10)
        delays.forEach((delay, retry) => {
          expect(delay).toBeGreaterThanOrEqual(0.8 * base(retry))
          expect(delay).toBeLessThanOrEqual(1.2 * base(retry))
        })
        expect(delays.filter((delay, retry) => delay === base(retry))).toEqual([])
      }
      // Two processes apart, even once the delays reach the cap.
      expect(runs[0]!.slice(5)).not.toEqual(runs[1]!.slice(5))
      expect(yield* delaysWith(1)).toEqual(runs[0])
    }))
})
