/**
 * `CairHttpClient` on the real `CairAuth` against the fake Cair server, over real HTTP on 127.0.0.1,
 * once for each `HttpClient` an app may pick: `FetchHttpClient` and `@effect/platform-node`'s
 * `NodeHttpClient` (undici and `node:http`). Every test gets a server of its own.
 */
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import * as CairAuth from "../src/CairAuth.js"
import { InvalidCredentials } from "../src/CairAuthError.js"
import * as CairHttpClient from "../src/CairHttpClient.js"

const { Fault } = FakeCairServer

const eligibilityPath = "/api/eligibility/v1"

const Eligibility = Schema.Struct({ eligible: Schema.Boolean, memberId: Schema.String })

/**
 * The authenticated client on `http`, with the `CairAuth` under it (for its events), pointed at a
 * fresh fake server, which is in the context too: the base URL is given to `CairAuth.layer` only, and a
 * bare `CairHttpClient.layer()` takes it from there. Everything stops when the test ends.
 */
const withCair = (
  http: Layer.Layer<HttpClient.HttpClient>,
  credentials: Partial<FakeCairServer.Credentials> = {}
) => {
  const CairLive = Layer.unwrapEffect(
    Effect.map(FakeCairServer.FakeCairServer, (server) =>
      CairHttpClient.layer().pipe(
        Layer.provideMerge(CairAuth.layer({ ...server.credentials, ...credentials, baseUrl: server.url })),
        Layer.provide(http)
      ))
  )
  return Effect.provide(Layer.provideMerge(CairLive, FakeCairServer.layer()))
}

const checkEligibility = (memberId: string) =>
  Effect.flatMap(
    CairHttpClient.CairHttpClient,
    (client) => client.post(eligibilityPath, { body: HttpBody.unsafeJson({ memberId }) })
  )

/** How many requests the server received on each endpoint. */
const counts = Effect.gen(function*() {
  const server = yield* FakeCairServer.FakeCairServer
  return {
    token: yield* server.count("/api/token"),
    refresh: yield* server.count("/api/refresh"),
    eligibility: yield* server.count(eligibilityPath)
  }
})

/** The statuses the server sent on the eligibility endpoint, in the order the requests arrived. */
const eligibilityStatuses = Effect.gen(function*() {
  const server = yield* FakeCairServer.FakeCairServer
  return (yield* server.requests).filter((entry) => entry.path === eligibilityPath).map((entry) => entry.status)
})

const wrongSecret = "wrong-secret-7c41e9"

const httpClients = [
  ["FetchHttpClient.layer", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["NodeHttpClient.layer (node:http)", NodeHttpClient.layer]
] as const

describe.each(httpClients)("CairHttpClient over %s against the fake server", (_, http) => {
  it.live("sends the bearer token: the server accepts the request, and one token serves many", () =>
    Effect.gen(function*() {
      const response = yield* checkEligibility("m-1001")
      expect(response.status).toBe(200)
      expect(yield* HttpClientResponse.schemaBodyJson(Eligibility)(response)).toEqual({
        eligible: true,
        memberId: "m-1001"
      })
      yield* checkEligibility("m-1002")
      const server = yield* FakeCairServer.FakeCairServer
      expect((yield* server.requests).map(({ authorization, path, status }) => ({ path, status, authorization })))
        .toEqual([
          { path: "/api/token", status: 200, authorization: false },
          { path: eligibilityPath, status: 200, authorization: true },
          { path: eligibilityPath, status: 200, authorization: true }
        ])
    }).pipe(withCair(http)))

  it.live("after revokeAccessTokens: one invalidation, one refresh, one retry, and the answer", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.FakeCairServer
      const auth = yield* CairAuth.CairAuth
      const events = yield* Effect.fork(Stream.runCollect(Stream.take(auth.events, 3)))
      yield* Effect.yieldNow() // lets the subscriber start
      yield* checkEligibility("m-1001")
      yield* server.revokeAccessTokens
      const response = yield* checkEligibility("m-1002")
      expect(response.status).toBe(200)
      expect(yield* HttpClientResponse.schemaBodyJson(Eligibility)(response)).toEqual({
        eligible: true,
        memberId: "m-1002"
      })
      expect(yield* counts).toEqual({ token: 1, refresh: 1, eligibility: 3 })
      expect(yield* eligibilityStatuses).toEqual([200, 401, 200])
      expect(Chunk.toReadonlyArray(yield* Fiber.join(events))).toMatchObject([
        { _tag: "Acquired", source: "credentials", generation: 1 },
        { _tag: "Invalidated", generation: 1 },
        { _tag: "Acquired", source: "refresh", generation: 2 }
      ])
    }).pipe(withCair(http)))

  it.live("a second 401 is returned as the response, and shows no token", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.FakeCairServer
      yield* server.inject(Fault.Status({ status: 401 }), { path: eligibilityPath, times: 2 })
      const response = yield* checkEligibility("m-1001")
      expect(response.status).toBe(401)
      expect(yield* counts).toEqual({ token: 1, refresh: 1, eligibility: 2 })
      expect(yield* eligibilityStatuses).toEqual([401, 401])
      // The retry carried the token that is current now.
      const token = Redacted.value(yield* Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken))
      for (const printed of [inspect(response, { depth: null }), JSON.stringify(response)]) {
        expect(printed).toContain("<redacted>")
        expect(printed).not.toContain(token)
      }
    }).pipe(withCair(http)))

  // On the TestClock: the server holds every request for one (test) second, so all of them are
  // surely in flight when the token is revoked, and they all come back 401 at once.
  it.effect("many requests in flight when the token is revoked cause exactly one new token", () =>
    Effect.gen(function*() {
      const n = 20
      const server = yield* FakeCairServer.FakeCairServer
      yield* checkEligibility("warm-up")
      yield* server.inject(Fault.Delay({ duration: "1 second" }), { path: eligibilityPath, times: n })
      const inFlight = yield* Effect.fork(Effect.all(
        Array.from({ length: n }, (_, i) => checkEligibility(`m-${i}`)),
        { concurrency: "unbounded" }
      ))
      yield* server.awaitCount(1 + n, eligibilityPath)
      yield* server.revokeAccessTokens
      yield* TestClock.adjust("1 second")
      const responses = yield* Fiber.join(inFlight)
      expect(responses.map((response) => response.status)).toEqual(Array.from({ length: n }, () => 200))
      expect(yield* counts).toEqual({ token: 1, refresh: 1, eligibility: 1 + 2 * n })
      const statuses = yield* eligibilityStatuses
      expect(statuses.filter((status) => status === 401)).toHaveLength(n)
    }).pipe(withCair(http)))

  it.live("wrong credentials fail with a typed InvalidCredentials, send nothing to the API, print no secret", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(checkEligibility("m-1001"))
      expect(error).toBeInstanceOf(InvalidCredentials)
      expect(error).toMatchObject({ _tag: "InvalidCredentials", clientId: "demo-client", status: 401 })
      expect(yield* counts).toEqual({ token: 1, refresh: 0, eligibility: 0 })
      for (const printed of [String(error), inspect(error, { depth: null }), JSON.stringify(error)]) {
        expect(printed).toContain("demo-client")
        expect(printed).not.toContain(wrongSecret)
        expect(printed).not.toContain(FakeCairServer.defaultCredentials.clientSecret)
      }
    }).pipe(withCair(http, { clientSecret: wrongSecret })))
})
