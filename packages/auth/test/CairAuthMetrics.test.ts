/**
 * The metrics after scripted scenarios, with exact counts: every counter of the client is compared as a whole,
 * so a count nobody expected fails the test as surely as a missing one. Each test runs its own client id, so
 * the registry's series of one test are not another's. Time is the `TestClock`: durations are exact too.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { readFileSync } from "node:fs"
import * as CairAuth from "../src/CairAuth.js"
import * as CairAuthMetrics from "../src/CairAuthMetrics.js"
import * as CairHttpClient from "../src/CairHttpClient.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenStore from "../src/TokenStore.js"
import type { RecordedRequest, Reply } from "./fixtures.js"
import { jsonResponse, scriptedHttp, secrets, storedTokenSet, tokenResponse } from "./fixtures.js"
import { countersOf, histogramsOf, recordingMeterProvider } from "./utils/metrics.js"

const baseUrl = "https://cair.test"
let clients = 0

/** `CairAuth` (and `CairHttpClient`) on a scripted server, in the test's scope, with a client id of its own. */
const setup = (
  respond: (request: RecordedRequest, index: number) => Effect.Effect<Reply>,
  options: Partial<CairAuth.Options> = {}
) =>
  Effect.gen(function*() {
    const clientId = `metrics-${++clients}`
    const http = yield* scriptedHttp(respond)
    const context = yield* Layer.build(
      CairHttpClient.layer().pipe(
        Layer.provideMerge(CairAuth.layer({
          clientId,
          clientSecret: secrets.clientSecret,
          baseUrl,
          retrySchedule: Schedule.exponential("100 millis"),
          ...options
        })),
        Layer.provide(http.layer)
      )
    )
    return {
      auth: Context.get(context, CairAuth.CairAuth),
      client: Context.get(context, CairHttpClient.CairHttpClient),
      http,
      clientId,
      counters: countersOf(clientId),
      histograms: histogramsOf(clientId)
    }
  })

/** Issues token set `index` valid for `ttlMs` from now; `api` answers the other paths. */
const issuing = (ttlMs = 600_000, refreshTtlMs = 86_400_000, api?: (index: number) => Response) => {
  let tokens = 0
  let calls = 0
  return (request: RecordedRequest) =>
    Effect.succeed(
      request.path.startsWith("/api/token") || request.path.startsWith("/api/refresh")
        ? tokenResponse({ n: tokens++, now: request.at, ttlMs, refreshTtlMs })
        : api?.(calls++) ?? jsonResponse(200, {})
    )
}

describe("CairAuthMetrics", () => {
  it.scoped("a cold start: one token request, one caller that waited, the rest from the cache", () =>
    Effect.gen(function*() {
      const { auth, counters, histograms } = yield* setup(issuing())
      yield* auth.accessToken
      for (let i = 0; i < 5; i++) yield* auth.accessToken
      yield* auth.get
      yield* auth.tokenSet
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 1,
        "cair.auth.token.reads{cair.auth.read=waited}": 1,
        "cair.auth.token.reads{cair.auth.read=cached}": 7
      })
      // The first hand-out is sampled; the cached reads within the same second are not. No time passed.
      expect(yield* histograms).toMatchObject({
        "cair.auth.token.request.duration{cair.auth.endpoint=token,cair.auth.outcome=ok}": { count: 1, sum: 0 },
        "cair.auth.token.remaining_lifetime{}": { count: 1, sum: 600, min: 600, max: 600 }
      })
      yield* TestClock.adjust("1 minute")
      yield* auth.accessToken
      yield* auth.accessToken
      expect((yield* histograms)["cair.auth.token.remaining_lifetime{}"]).toEqual({
        count: 2,
        sum: 1_140,
        min: 540,
        max: 600
      })
    }))

  it.scoped("a background refresh in the window; then a refresh token past its life falls back", () =>
    Effect.gen(function*() {
      const { auth, counters, http } = yield* setup(issuing(60_000, 150_000))
      yield* auth.accessToken
      yield* TestClock.adjust("45 seconds") // 15 s left: in the 30 s window of a 60 s token
      yield* auth.accessToken
      yield* settled(counters, "cair.auth.background_refreshes{cair.auth.outcome=ok}")
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 1,
        "cair.auth.token.requests{cair.auth.endpoint=refresh,cair.auth.outcome=ok}": 1,
        "cair.auth.background_refreshes{cair.auth.outcome=ok}": 1,
        "cair.auth.token.reads{cair.auth.read=waited}": 1,
        "cair.auth.token.reads{cair.auth.read=cached}": 1
      })
      // The second token set's refresh token lives until 45 + 150 s; at 4 minutes its access token is long gone.
      yield* TestClock.adjust("195 seconds")
      yield* auth.accessToken
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 2,
        "cair.auth.token.requests{cair.auth.endpoint=refresh,cair.auth.outcome=ok}": 1,
        "cair.auth.background_refreshes{cair.auth.outcome=ok}": 1,
        "cair.auth.fallbacks{cair.auth.reason=RefreshTokenExpired}": 1,
        "cair.auth.token.reads{cair.auth.read=waited}": 2,
        "cair.auth.token.reads{cair.auth.read=cached}": 1
      })
      expect((yield* http.requests).map((r) => r.path)).toEqual(["/api/token", "/api/refresh", "/api/token"])
    }))

  it.scoped("a rejected refresh token falls back to the credentials", () =>
    Effect.gen(function*() {
      const tokens = issuing(60_000)
      const { auth, counters } = yield* setup((request) =>
        request.path === "/api/refresh" ? Effect.succeed(jsonResponse(401, {})) : tokens(request)
      )
      yield* auth.accessToken
      yield* TestClock.adjust("2 minutes")
      yield* auth.accessToken
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 2,
        "cair.auth.token.requests{cair.auth.endpoint=refresh,cair.auth.outcome=RefreshTokenRejected}": 1,
        "cair.auth.fallbacks{cair.auth.reason=RefreshTokenRejected}": 1,
        "cair.auth.token.reads{cair.auth.read=waited}": 2
      })
    }))

  it.scoped("two 503s retried, then a token: one request, two retries, the delays in its duration", () =>
    Effect.gen(function*() {
      const tokens = issuing()
      const { auth, counters, histograms } = yield* setup((request, index) =>
        index < 2 ? Effect.succeed(jsonResponse(503, { message: "down" })) : tokens(request)
      )
      const fiber = yield* Effect.fork(auth.accessToken)
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 1,
        "cair.auth.token.request.retries{cair.auth.endpoint=token,cair.auth.reason=Status}": 2,
        "cair.auth.token.reads{cair.auth.read=waited}": 1
      })
      // 100 ms, then 200 ms: the schedule's delays.
      expect(
        (yield* histograms)["cair.auth.token.request.duration{cair.auth.endpoint=token,cair.auth.outcome=ok}"]
      ).toMatchObject({ count: 1, sum: 0.3 })
    }))

  it.scoped("a 401 of the API: one invalidation, one renewal, the request sent again", () =>
    Effect.gen(function*() {
      const { client, counters } = yield* setup(
        issuing(600_000, 86_400_000, (index) => jsonResponse(index === 0 ? 401 : 200, {}))
      )
      const response = yield* client.execute(HttpClientRequest.get("/api/eligibility/v1"))
      expect(response.status).toBe(200)
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 1,
        "cair.auth.token.requests{cair.auth.endpoint=refresh,cair.auth.outcome=ok}": 1,
        "cair.auth.invalidations{cair.auth.reason=unauthorized}": 1,
        "cair.auth.token.reads{cair.auth.read=waited}": 2
      })
    }))

  it.scoped("an API that rejects every token: renewals refused by the rest, the 401s returned", () =>
    Effect.gen(function*() {
      const { client, counters } = yield* setup(issuing(600_000, 86_400_000, () => jsonResponse(401, {})))
      for (let i = 0; i < 2; i++) {
        expect((yield* client.execute(HttpClientRequest.get("/api/eligibility/v1"))).status).toBe(401)
      }
      // The first 401 renews; the second fresh token rejected starts the rest: that 401, and the next call's,
      // are returned without a new token.
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 1,
        "cair.auth.token.requests{cair.auth.endpoint=refresh,cair.auth.outcome=ok}": 1,
        "cair.auth.invalidations{cair.auth.reason=unauthorized}": 2,
        "cair.auth.renewals_refused{}": 2,
        "cair.auth.token.reads{cair.auth.read=waited}": 2,
        "cair.auth.token.reads{cair.auth.read=cached}": 1
      })
    }))

  it.scoped("a request that fails for good, and the callers turned away during the rest", () =>
    Effect.gen(function*() {
      const { auth, counters } = yield* setup(() => Effect.succeed(jsonResponse(401, { message: "no" })))
      for (let i = 0; i < 3; i++) expect((yield* Effect.flip(auth.accessToken))._tag).toBe("InvalidCredentials")
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=InvalidCredentials}": 1,
        "cair.auth.token.reads{cair.auth.read=failed}": 3
      })
    }))

  it.scoped("503s past the retries: the request fails with its reason, each attempt but the first a retry", () =>
    Effect.gen(function*() {
      const { auth, counters } = yield* setup(() => Effect.succeed(jsonResponse(503, {})))
      const fiber = yield* Effect.fork(Effect.flip(auth.accessToken))
      yield* TestClock.adjust("1 minute")
      expect((yield* Fiber.join(fiber))._tag).toBe("TokenRequestFailed")
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=TokenRequestFailed,cair.auth.reason=Status}":
          1,
        "cair.auth.token.request.retries{cair.auth.endpoint=token,cair.auth.reason=Status}": 3,
        "cair.auth.token.reads{cair.auth.read=failed}": 1
      })
    }))

  it.scoped("a background refresh that fails: counted with its error, the callers still served", () =>
    Effect.gen(function*() {
      const tokens = issuing()
      const { auth, counters } = yield* setup(
        (request, index) => index === 0 ? tokens(request) : Effect.succeed(jsonResponse(500, {})),
        { maxRetries: 0 }
      )
      yield* auth.accessToken
      yield* TestClock.adjust("570 seconds")
      yield* auth.accessToken
      yield* settled(
        counters,
        "cair.auth.background_refreshes{cair.auth.outcome=TokenRequestFailed,cair.auth.reason=Status}"
      )
      yield* auth.accessToken
      expect(yield* counters).toEqual({
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 1,
        "cair.auth.token.requests{cair.auth.endpoint=refresh,cair.auth.outcome=TokenRequestFailed,cair.auth.reason=Status}":
          1,
        "cair.auth.background_refreshes{cair.auth.outcome=TokenRequestFailed,cair.auth.reason=Status}": 1,
        "cair.auth.token.reads{cair.auth.read=waited}": 1,
        "cair.auth.token.reads{cair.auth.read=cached}": 2
      })
    }))

  it.scoped("a shared store that fails: each failed operation counted, the token obtained all the same", () =>
    Effect.gen(function*() {
      const clientId = `metrics-${++clients}`
      const down = new TokenStore.TokenStoreError({ reason: "Unavailable", operation: "latest", description: "down" })
      const failing = (opens: boolean) =>
        Layer.effect(
          TokenStore.TokenStore,
          Effect.map(TokenStore.makeMemory, (memory) =>
            TokenStore.TokenStore.of({
              forClient: (client) =>
                opens
                  ? Effect.map(memory.forClient(client), (slot) => ({
                    ...slot,
                    latest: Effect.fail(down),
                    put: () => Effect.fail(down)
                  }))
                  : Effect.fail(down)
            }))
        )
      for (const opens of [true, false]) {
        const http = yield* scriptedHttp(issuing())
        const auth = yield* Layer.build(
          Layer.scoped(CairAuth.CairAuth, CairAuth.make({ clientId })).pipe(
            Layer.provide(TokenEndpoint.layer({ clientId, clientSecret: secrets.clientSecret, baseUrl })),
            Layer.provide(failing(opens)),
            Layer.provide(http.layer)
          )
        ).pipe(Effect.map(Context.get(CairAuth.CairAuth)))
        yield* auth.accessToken
      }
      // Opened: the read before the request fails, and the process requests on its own (it shares nothing, so it
      // writes nothing). Not opened: once.
      expect(yield* countersOf(clientId)).toEqual({
        "cair.auth.store.fallbacks{cair.auth.reason=read}": 1,
        "cair.auth.store.fallbacks{cair.auth.reason=unavailable}": 1,
        "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 2,
        "cair.auth.token.reads{cair.auth.read=waited}": 2
      })
    }))

  describe("with a shared store", () => {
    /** CairAuth on a memory store whose slot the test works as another process of the fleet would. */
    const fleet = Effect.gen(function*() {
      const clientId = `metrics-${++clients}`
      const http = yield* scriptedHttp(issuing())
      const store = yield* TokenStore.makeMemory
      const slot = yield* store.forClient({ clientId, baseUrl, clientSecret: undefined })
      const start = CairAuth.make({ clientId, baseUrl }).pipe(
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(
          TokenEndpoint.layer({ clientId, clientSecret: secrets.clientSecret, baseUrl }).pipe(Layer.provide(http.layer))
        )
      )
      return { clientId, http, slot, start }
    })
    const stored = storedTokenSet

    it.scoped("a lease held by another process: one wait, its token adopted, no request", () =>
      Effect.gen(function*() {
        const { clientId, http, slot, start } = yield* fleet
        yield* slot.acquireLease(60_000)
        const auth = yield* start
        const caller = yield* Effect.fork(auth.accessToken)
        yield* settled(countersOf(clientId), "cair.auth.store.lease_waits{}")
        yield* slot.put(stored(0, 5), Option.none())
        expect(Redacted.value(yield* Fiber.join(caller))).toBe(secrets.accessToken(5))
        expect(yield* http.count()).toBe(0)
        expect(yield* countersOf(clientId)).toEqual({
          "cair.auth.store.lease_waits{}": 1,
          "cair.auth.token.reads{cair.auth.read=waited}": 1
        })
      }))

    it.scoped("a refresh token claimed by a holder that did not finish: taken over with the credentials", () =>
      Effect.gen(function*() {
        const { clientId, http, slot, start } = yield* fleet
        // Another process shared a token set that has expired since, claimed its refresh token and stopped.
        const written = Option.getOrThrow(yield* slot.put(stored(-700_000, 3), Option.none()))
        const held = Option.getOrThrow(yield* slot.acquireLease(60_000))
        expect(yield* slot.claimRefresh(held, written.version)).toBe(true)
        yield* slot.releaseLease(held)
        const auth = yield* start
        expect(Redacted.value(yield* auth.accessToken)).toBe(secrets.accessToken(0))
        expect((yield* http.requests).map((request) => request.path)).toEqual(["/api/token"])
        expect(yield* countersOf(clientId)).toEqual({
          "cair.auth.store.lease_takeovers{}": 1,
          "cair.auth.token.requests{cair.auth.endpoint=token,cair.auth.outcome=ok}": 1,
          "cair.auth.token.reads{cair.auth.read=waited}": 1
        })
      }))
  })

  it.scoped("metrics: false records nothing", () =>
    Effect.gen(function*() {
      const { auth, counters, histograms } = yield* setup(issuing(), { metrics: false })
      yield* auth.accessToken
      yield* auth.invalidate
      yield* auth.accessToken
      expect(yield* counters).toEqual({})
      expect(yield* histograms).toEqual({})
    }))

  it.scoped("the labels in force when the layer is built tag every series", () =>
    Effect.gen(function*() {
      const { auth, clientId } = yield* setup(issuing()).pipe(Effect.tagMetrics("deployment", "blue"))
      yield* auth.accessToken
      const tagged = yield* countersOf(clientId)
      expect(Object.keys(tagged).length).toBe(2)
      expect(Object.keys(tagged).every((key) => key.includes("deployment=blue"))).toBe(true)
    }))

  it.effect("an OpenTelemetry MeterProvider gets the same figures, and its callbacks end with the client", () =>
    Effect.gen(function*() {
      const meter = recordingMeterProvider()
      const scope = yield* Scope.make()
      const { auth, clientId, http } = yield* setup(issuing(), { meterProvider: meter.provider }).pipe(
        Scope.extend(scope)
      )
      yield* auth.accessToken
      yield* auth.accessToken
      yield* auth.accessToken
      yield* auth.invalidate
      yield* auth.accessToken
      expect(yield* http.count()).toBe(2)
      expect(new Set(meter.instruments.map((instrument) => instrument.meter))).toEqual(new Set(["@cair/auth"]))
      expect(meter.instruments.find((i) => i.name === "cair.auth.token.request.duration")?.options).toMatchObject({
        unit: "s",
        advice: { explicitBucketBoundaries: expect.arrayContaining([0.1, 1, 10]) }
      })
      const id = { "cair.client_id": clientId }
      expect(meter.measurements.filter((m) => m.instrument !== "cair.auth.token.request.duration")).toEqual([
        { instrument: "cair.auth.token.requests", value: 1, attributes: { ...id, ...ok("token") } },
        { instrument: "cair.auth.token.remaining_lifetime", value: 600, attributes: id },
        { instrument: "cair.auth.invalidations", value: 1, attributes: { ...id, "cair.auth.reason": "invalidate" } },
        { instrument: "cair.auth.token.requests", value: 1, attributes: { ...id, ...ok("refresh") } },
        { instrument: "cair.auth.token.remaining_lifetime", value: 600, attributes: id }
      ])
      // The reads, counted on the hot path, reach the meter when it collects.
      expect(meter.collect()).toEqual([
        { instrument: "cair.auth.token.reads", value: 2, attributes: { ...id, "cair.auth.read": "waited" } },
        { instrument: "cair.auth.token.reads", value: 2, attributes: { ...id, "cair.auth.read": "cached" } }
      ])
      expect(meter.callbackCount()).toBe(1)
      yield* Scope.close(scope, Exit.void)
      expect(meter.callbackCount()).toBe(0)
    }))

  it("the README lists every metric with its unit and attributes", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
    for (const metric of CairAuthMetrics.descriptors) {
      const row = readme.split("\n").find((line) => line.startsWith(`| \`${metric.name}\``))
      expect(row, metric.name).toBeDefined()
      expect(row).toContain(`\`${metric.unit}\``)
      for (const attribute of metric.attributes) expect(row).toContain(`\`${attribute}\``)
    }
  })

  it("options are checked", () => {
    expect(CairAuth.validateOptions({ clientId: "c", clientSecret: "s", metrics: "yes" as never })).toMatchObject({
      left: { option: "metrics" }
    })
    expect(CairAuth.validateOptions({ clientId: "c", clientSecret: "s", meterProvider: {} as never })).toMatchObject({
      left: { option: "meterProvider" }
    })
  })
})

/** Lets the background fiber run until the counter `key` is recorded. */
const settled = (counters: Effect.Effect<Readonly<Record<string, number>>>, key: string) =>
  Effect.yieldNow().pipe(
    Effect.zipRight(counters),
    Effect.repeat({ until: (recorded) => key in recorded, times: 10_000 }),
    Effect.filterOrDieMessage((recorded) => key in recorded, `expected ${key} to be recorded`)
  )

const ok = (endpoint: string) => ({ "cair.auth.endpoint": endpoint, "cair.auth.outcome": "ok" })
