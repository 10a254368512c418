/**
 * The secret scan: a whole life of the client against the fake Cair server over real HTTP (first token,
 * background refresh with rotation, a rejected refresh token and the fallback, invalidations, every kind of
 * failure, wrong credentials, bad options, the endpoints used directly), with every log line at every level,
 * every span (attributes, events, exit) and every object a program might print captured: the views, token
 * sets, events, errors, exits and causes, and the HTTP requests and responses themselves. None may show the
 * client secret or a token.
 *
 * Every suite also runs with distinctive values (`test/utils/secrets.ts`) and the setup file
 * `test/utils/scanOutput.ts` scans all the console output of every test file for them.
 */
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import * as CairAuth from "../src/CairAuth.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import type { TokenEvent } from "../src/TokenEvent.js"
import { faultCases } from "./utils/faultCases.js"
import { makeCapture, waitFor, wakeAt } from "./utils/harness.js"
import { recordingMeterProvider } from "./utils/metrics.js"
import { printedSoFar } from "./utils/scanOutput.js"
import { credentials, findSecret, leaks, renderings } from "./utils/secrets.js"

const { Fault } = FakeCairServer
const start = Date.UTC(2026, 0, 1)

describe("secret scan", () => {
  it("the scan finds a secret wherever it is", () => {
    expect(findSecret(`token: fake-at-7-0123456789ab`)).toBe("fake-at-…")
    expect(findSecret(`{"clientSecret":"${credentials.clientSecret}"}`)).toBe("S3CRET-r…")
    expect(findSecret("nothing to see", ["sekret"])).toBeUndefined()
    expect(findSecret("a sekret here", ["sekret"])).toBe("sekret…")
    expect(leaks([["raw", `Bearer ${Redacted.value(Redacted.make("AT-secret-access-3"))}`]])).toEqual([
      "raw: AT-secre…"
    ])
  })

  it("the scan finds a token inside a TypeError's message and inside a cause, whatever renders it", () => {
    const typeError = new TypeError(`Headers.append: "Bearer fake-at-3-0123456789ab\r\n" is an invalid header value.`)
    const wrapped = new Error("request failed", { cause: typeError })
    const unsafe = new TypeError(`Headers.set: "Bearer UNSAFE-token-crlf\r\nX: 1" is an invalid header value.`)
    for (const value of [typeError, wrapped, { error: wrapped }, new Error("outer", { cause: unsafe })]) {
      const found = renderings(value).map((text) => findSecret(text))
      expect(found.filter((secret) => secret !== undefined).length).toBeGreaterThan(0)
    }
    // JSON.stringify of an Error shows neither message nor cause: the cause chain is rendered on its own.
    expect(JSON.stringify(wrapped)).toBe("{}")
    expect(renderings(wrapped).some((text) => text === typeError.message)).toBe(true)
  })

  it("the setup file keeps everything a test prints, for the scan after the file", () => {
    console.debug("secret scan: a line without a secret")
    expect(printedSoFar().some((line) => line.includes("secret scan: a line without a secret"))).toBe(true)
  })

  it.scoped(
    "no log line, span, event, error, exit, view, request or response shows the secret or a token",
    () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(start)
        const server = yield* FakeCairServer.make({ credentials, accessTokenTtlMs: 600_000 })
        const capture = yield* makeCapture
        const run = capture.run
        const meter = recordingMeterProvider()

        // The app's HTTP client, keeping every request and response the SDK sends and gets.
        const requests: Array<HttpClientRequest.HttpClientRequest> = []
        const responses: Array<HttpClientResponse.HttpClientResponse> = []
        const keeping = Layer.effect(
          HttpClient.HttpClient,
          Effect.map(HttpClient.HttpClient, (client) =>
            client.pipe(
              HttpClient.transform((effect, request) =>
                Effect.zipRight(Effect.sync(() => requests.push(request)), effect)
              ),
              HttpClient.tap((response) => Effect.sync(() => responses.push(response)))
            ))
        ).pipe(Layer.provide(NodeHttpClient.layer))
        const options = {
          ...credentials,
          baseUrl: server.url,
          maxRetries: 1,
          retrySchedule: Schedule.spaced("0 millis"),
          requestTimeoutMs: 1_000,
          meterProvider: meter.provider
        }
        const context = yield* run(Layer.build(CairAuth.layer(options).pipe(Layer.provide(keeping))))
        const auth = Context.get(context, CairAuth.CairAuth)
        const events: Array<TokenEvent> = []
        yield* Effect.forkScoped(Stream.runForEach(auth.events, (event) => Effect.sync(() => events.push(event))))
        yield* Effect.yieldNow()

        const objects: Array<readonly [string, unknown]> = [["service", auth]]
        const tokens = new Set<string>()
        const keep = (label: string) => <A>(value: A) => {
          objects.push([label, value])
          return value
        }
        const view = (label: string) => (token: CairAuth.AccessToken) => {
          tokens.add(Redacted.value(token.token))
          tokens.add(Redacted.value(token.tokenSet.refreshToken))
          objects.push([label, token], [`${label} token set`, token.tokenSet], [`${label} token`, token.token])
          return token
        }
        const exit = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
          Effect.tap(run(Effect.exit(effect)), (exit) => {
            objects.push([label, exit])
            if (Exit.isFailure(exit)) {
              objects.push([`${label} cause`, Cause.pretty(exit.cause)], [`${label} error`, Cause.squash(exit.cause)])
            }
          })
        /** Past any rest: the next call may start a request. */
        const rested = TestClock.adjust("31 seconds")

        // The first token, then a background refresh with rotation in the refresh window.
        view("first")(yield* run(auth.get))
        objects.push(["token set", yield* run(auth.tokenSet)])
        yield* TestClock.adjust("570 seconds")
        yield* run(auth.get)
        yield* waitFor(
          Effect.sync(() => events.filter((event) => event._tag === "Acquired").length === 2),
          () => "the refresh"
        )
        view("refreshed")(yield* run(auth.get))

        // A rejected refresh token: the fallback to the credentials.
        yield* server.inject(Fault.Status({ status: 401 }), { path: "/api/refresh" })
        view("fallback")(yield* run(auth.refresh))
        yield* run(auth.invalidateToken(Redacted.make("fake-at-1-000000000000")))
        yield* run(auth.invalidate)
        view("after invalidation")(yield* run(auth.get))

        // Every fault of the matrix, through a forced refresh.
        for (
          const c of faultCases.filter((c) => c.server === undefined)
        ) {
          yield* rested
          const serverNow = yield* Clock.currentTimeMillis
          for (const { fault, path, times } of c.inject({ phase: "refresh", serverNow, attempts: 2 })) {
            yield* server.inject(fault, { path, times })
          }
          const before = yield* server.count()
          const fiber = yield* Effect.fork(exit(c.name, auth.refresh))
          if (c.name.includes("never answers")) {
            yield* wakeAt(serverNow + 1_000, before + 1, server.count())
            if (!c.name.includes("once")) yield* wakeAt(serverNow + 2_000, before + 2, server.count())
          }
          if (c.failedAttempts?.(2).some((attempt) => attempt.retryAfterMs !== undefined)) {
            // Retry-After of 1 s: the one retry waits for it.
            yield* wakeAt(serverNow + 1_000, before + 1, server.count())
          }
          yield* waitFor(Effect.map(Fiber.poll(fiber), (poll) => poll._tag === "Some"), () => c.name)
          yield* server.clearFaults
        }

        // Wrong credentials: that secret must not show either.
        const wrong = { ...options, clientSecret: "S3CRET-wrong-one-77aa" }
        const wrongContext = yield* run(Layer.build(CairAuth.layer(wrong).pipe(Layer.provide(keeping))))
        yield* exit("wrong credentials", Context.get(wrongContext, CairAuth.CairAuth).accessToken)

        // The endpoints used directly: an issued set with its dates, a rejected refresh token.
        const endpoint = yield* run(TokenEndpoint.make(options).pipe(Effect.provide(keeping)))
        const issued = keep("issued token set")(yield* run(endpoint.requestToken))
        tokens.add(Redacted.value(issued.tokens.accessToken))
        tokens.add(Redacted.value(issued.tokens.refreshToken))
        yield* exit("rejected refresh token", endpoint.refresh(Redacted.make("fake-rt-999-0123456789ab")))

        // Bad options and configuration: the errors name the option, never the secret.
        yield* exit(
          "invalid options",
          Layer.build(CairAuth.layer({ ...options, baseUrl: "http://cair.example" }).pipe(Layer.provide(keeping)))
        )
        yield* exit(
          "invalid config",
          Layer.build(CairAuth.layerConfig.pipe(Layer.provide(keeping))).pipe(
            Effect.withConfigProvider(ConfigProvider.fromMap(
              new Map([["CAIR_CLIENT_SECRET", credentials.clientSecret], ["CAIR_BASE_URL", "ftp://x"]])
            ))
          )
        )

        objects.push(
          ...events.map((event) => [`event ${event._tag}`, event] as const),
          ...requests.map((request) => [`request ${request.url}`, request] as const),
          ...responses.map((response) => [`response ${response.status}`, response] as const)
        )
        // Every series of every metric (names, attributes, values), and everything the OpenTelemetry meter got.
        const snapshot = yield* Metric.snapshot
        const metrics = snapshot.filter((pair) => pair.metricKey.name.startsWith("cair.auth."))
        expect(new Set(metrics.map((pair) => pair.metricKey.name)).size).toBeGreaterThan(6)
        expect(meter.measurements.length).toBeGreaterThan(20)
        const outputs = [
          ...capture.outputs(),
          ...snapshot.map((pair) => [`metric ${pair.metricKey.name}`, inspect(pair, { depth: 20 })] as const),
          ...[...meter.instruments, ...meter.measurements, ...meter.collect()].map((entry) =>
            ["OpenTelemetry meter", JSON.stringify(entry)] as const
          ),
          ...objects.flatMap(([label, value]) => renderings(value).map((text) => [label, text] as const))
        ]
        // The capture is not empty: debug lines, the spans of the flights, requests and attempts, failures.
        const spans = capture.spans()
        expect(capture.lines.length).toBeGreaterThan(50)
        expect(spans.map((span) => span.name)).toEqual(expect.arrayContaining([
          "CairAuth.flight",
          "TokenEndpoint.requestToken",
          "TokenEndpoint.refresh",
          "POST /api/token",
          "POST /api/refresh"
        ]))
        expect(spans.some((span) => span.attributes.some(([key]) => key === "http.request.resend_count"))).toBe(true)
        expect(spans.some((span) => span.exit.includes("Failure"))).toBe(true)
        expect(requests.length).toBeGreaterThan(30)
        expect(events.map((event) => event._tag)).toEqual(
          expect.arrayContaining(["Acquired", "FellBack", "Failed", "Invalidated"])
        )
        expect(tokens.size).toBeGreaterThanOrEqual(8)
        expect(leaks(outputs, [credentials.clientSecret, "S3CRET-wrong-one-77aa", ...tokens])).toEqual([])
        // The bodies are sent all the same: the fake server got the credentials and the refresh tokens.
        const log = yield* server.requests
        expect(
          log.filter((entry) => entry.path === "/api/refresh" && entry.refreshToken?.startsWith("fake-rt-")).length
        )
          .toBeGreaterThan(5)
      }),
    30_000
  )
})
