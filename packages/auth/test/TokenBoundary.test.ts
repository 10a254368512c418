/**
 * Where the token and the secret go, through the Effect API, over real HTTP on two loopback servers: the Cair
 * API (the fake server) and "another host" (a second fake server, which would accept anything sent to it).
 * Once for each `HttpClient` an app may pick: path tricks refused before any byte is sent, redirects to another
 * origin (with and without `followRedirects`), redirects of both token endpoints, header-unsafe tokens, and a
 * 401 to a stream body.
 */
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as CairAuth from "../src/CairAuth.js"
import * as CairHttpClient from "../src/CairHttpClient.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import { unsafeTokens } from "./utils/headerUnsafeTokens.js"
import { refusedPaths, refusedUrls } from "./utils/pathTricks.js"
import { findSecret, renderings } from "./utils/secrets.js"

const { Fault } = FakeCairServer
const eligibility = "/api/eligibility/v1"

/** "Another host": a second fake server on another port, which logs whatever reaches it. */
class OtherHost extends Context.Tag("test/OtherHost")<OtherHost, FakeCairServer.FakeCairServer.Service>() {}

/** A user-supplied fetch whose body can be sent again: the bytes are copied on every call. */
const replayingFetch: typeof globalThis.fetch = (input, init) =>
  globalThis.fetch(input, {
    ...init,
    body: init?.body instanceof Uint8Array ? Buffer.from(init.body) : init?.body ?? null
  })

const httpClients = [
  ["FetchHttpClient.layer", FetchHttpClient.layer],
  [
    "FetchHttpClient.layer with a fetch that replays bodies",
    FetchHttpClient.layer.pipe(
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, replayingFetch))
    )
  ],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["NodeHttpClient.layer (node:http)", NodeHttpClient.layer]
] as const

/** `CairHttpClient` and `CairAuth` on `http`, against a fresh API and another host. */
const withServers = (http: Layer.Layer<HttpClient.HttpClient>) => {
  const CairLive = Layer.unwrapEffect(
    Effect.map(FakeCairServer.FakeCairServer, (server) =>
      CairHttpClient.layer().pipe(
        Layer.provideMerge(CairAuth.layer({ ...server.credentials, baseUrl: server.url, maxRetries: 0 })),
        Layer.provideMerge(http)
      ))
  )
  return Effect.provide(
    CairLive.pipe(
      Layer.provideMerge(FakeCairServer.layer()),
      Layer.provideMerge(Layer.scoped(OtherHost, FakeCairServer.make()))
    )
  )
}

const post = (path: string, body: HttpBody.HttpBody = HttpBody.unsafeJson({ memberId: "m-1" })) =>
  Effect.flatMap(CairHttpClient.CairHttpClient, (client) => client.post(path, { body }))

const servers = Effect.all({ api: FakeCairServer.FakeCairServer, other: OtherHost })

/** Method, path and whether `Authorization` was sent, for each request a server got. */
const seen = (server: FakeCairServer.FakeCairServer.Service) =>
  Effect.map(server.requests, (log) => log.map((entry) => [entry.method, entry.path, entry.authorization] as const))

const hostOf = (url: string) => new URL(url).host

const tokenSetWith = (accessToken: string) =>
  JSON.stringify({
    accessToken,
    refreshToken: "fake-rt-1-0123456789ab",
    expiresAt: "2099-01-01T00:00:00Z",
    refreshTokenExpiresAt: "2099-01-02T00:00:00Z"
  })

describe.each(httpClients)("where the token goes, over %s", (_, http) => {
  it.live("every path trick and foreign URL is refused with a typed error before any byte is sent", () =>
    Effect.gen(function*() {
      const { api, other } = yield* servers
      const client = yield* CairHttpClient.CairHttpClient
      const cases = [...refusedPaths(hostOf(other.url)), ...refusedUrls(api.url, hostOf(other.url))]
      for (const [input, reason] of cases) {
        const error = yield* Effect.flip(client.get(input))
        expect(error, JSON.stringify(input)).toMatchObject({
          _tag: "RequestError",
          reason: "InvalidUrl",
          cause: { _tag: "UnsafeRequestUrl", reason, baseUrl: api.url }
        })
      }
      // Not even a token was asked for.
      expect(yield* api.count()).toBe(0)
      expect(yield* other.count()).toBe(0)
      expect((yield* post(eligibility)).status).toBe(200)
      expect(yield* seen(api)).toEqual([["POST", "/api/token", false], ["POST", eligibility, true]])
    }).pipe(withServers(http)))

  it.live("a redirect to another origin is the response; with followRedirects it is followed without the token", () =>
    Effect.gen(function*() {
      const { api, other } = yield* servers
      const client = yield* CairHttpClient.CairHttpClient
      const elsewhere = `${other.url}${eligibility}`
      for (const status of [301, 302, 303, 307, 308]) {
        yield* api.inject(Fault.Redirect({ status, location: elsewhere }), { path: eligibility })
        expect((yield* post(eligibility)).status).toBe(status)
      }
      expect(yield* other.count()).toBe(0)

      const following = HttpClient.followRedirects(client)
      for (const location of [elsewhere, `//${hostOf(other.url)}${eligibility}`]) {
        yield* api.inject(Fault.Redirect({ status: 307, location }), { path: eligibility })
        const response = yield* following.post(eligibility, { body: HttpBody.unsafeJson({ memberId: "m-2" }) })
        // The other host wants a token it did not get; its 401 is not the Cair API's and invalidates nothing.
        expect(response.status).toBe(401)
      }
      expect(yield* seen(other)).toEqual([["POST", eligibility, false], ["POST", eligibility, false]])

      // A redirect under the base URL is followed with the token.
      yield* api.inject(Fault.Redirect({ status: 308, location: eligibility }), { path: eligibility })
      expect((yield* following.post(eligibility, { body: HttpBody.unsafeJson({ memberId: "m-3" }) })).status).toBe(200)
      expect((yield* seen(api)).slice(-2)).toEqual([["POST", eligibility, true], ["POST", eligibility, true]])
      expect(yield* api.count("/api/token")).toBe(1)
      expect(yield* api.count("/api/refresh")).toBe(0)
    }).pipe(withServers(http)))

  it.live("the token endpoints never follow a redirect: TokenRequestFailed naming the status and the origin", () =>
    Effect.gen(function*() {
      const { api, other } = yield* servers
      const endpoint = yield* TokenEndpoint.make({ ...api.credentials, baseUrl: api.url, maxRetries: 0 })
      const { tokens } = yield* endpoint.requestToken
      const calls: ReadonlyArray<readonly [string, Effect.Effect<unknown, Error>]> = [
        ["/api/token", endpoint.requestToken],
        ["/api/refresh", endpoint.refresh(tokens.refreshToken)]
      ]
      for (const [path, call] of calls) {
        for (const status of [301, 302, 303, 307, 308]) {
          yield* api.inject(Fault.Redirect({ status, location: `${other.url}${path}` }), { path })
          const error = yield* Effect.flip(call)
          expect(error).toMatchObject({ _tag: "TokenRequestFailed", reason: "Status", status })
          expect(error.message).toBe(
            `Token request to ${api.url}${path} failed: Status (HTTP ${status}): redirected to ${other.url}; not followed`
          )
        }
      }
      // Through CairAuth: the caller gets the error, and no token from elsewhere.
      yield* api.inject(Fault.Redirect({ status: 307, location: `${other.url}/api/token` }), { path: "/api/token" })
      expect(yield* Effect.flip(post(eligibility))).toMatchObject({ _tag: "TokenRequestFailed", status: 307 })
      // Neither the secret nor a refresh token reached the other host.
      expect(yield* other.count()).toBe(0)
      expect(yield* api.count(eligibility)).toBe(0)
    }).pipe(withServers(http)))

  it.live("an access token that is not a bearer token is MalformedTokenResponse, naming the field, not the value", () =>
    Effect.gen(function*() {
      const { api } = yield* servers
      const endpoint = yield* TokenEndpoint.make({ ...api.credentials, baseUrl: api.url, maxRetries: 0 })
      for (const accessToken of unsafeTokens) {
        yield* api.inject(Fault.Malformed({ body: tokenSetWith(accessToken) }), { path: "/api/token" })
        const error = yield* Effect.flip(endpoint.requestToken)
        expect(error, JSON.stringify(accessToken)).toMatchObject({
          _tag: "MalformedTokenResponse",
          problems: ["accessToken has the wrong type or format"]
        })
        for (const text of renderings(error)) expect(findSecret(text, [accessToken])).toBeUndefined()
      }
      // Through CairHttpClient: the API gets nothing.
      yield* api.inject(Fault.Malformed({ body: tokenSetWith(unsafeTokens[0]) }), { path: "/api/token" })
      expect(yield* Effect.flip(post(eligibility))).toMatchObject({ _tag: "MalformedTokenResponse" })
      expect(yield* api.count(eligibility)).toBe(0)
    }).pipe(withServers(http)))

  it.live("a 401 to a stream body is returned, and still invalidates the token it carried", () =>
    Effect.gen(function*() {
      const { api } = yield* servers
      expect((yield* post(eligibility)).status).toBe(200)
      yield* api.revokeAccessTokens
      const upload = HttpBody.stream(Stream.make(new TextEncoder().encode(JSON.stringify({ memberId: "m-4" }))))
      expect((yield* post(eligibility, upload)).status).toBe(401)
      expect((yield* post(eligibility)).status).toBe(200)
      expect((yield* api.requests).filter((entry) => entry.path === eligibility).map((entry) => entry.status))
        .toEqual([200, 401, 200])
      expect(yield* api.count("/api/refresh")).toBe(1)
    }).pipe(withServers(http)))

  it.live("a header value never shows in an error's message or cause (fetch's TypeError prints it)", () =>
    Effect.gen(function*() {
      const { api } = yield* servers
      const client = yield* CairHttpClient.CairHttpClient
      const exit = yield* Effect.exit(
        client.post(eligibility, { headers: { "x-api-key": "S3CRET-api-key-1\r\nX-Injected: 1" } })
      )
      // A RequestError, or with node:http a defect: its setHeader throws.
      const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      expect(error).toBeInstanceOf(Error)
      const { cause, message } = error as Error
      for (const text of [message, ...renderings(cause)]) expect(findSecret(text)).toBeUndefined()
      expect(yield* api.count(eligibility)).toBe(0)
    }).pipe(withServers(http)))
})

describe.each([httpClients[0], httpClients[2]])("an API that rejects every token, over %s", (_, http) => {
  // On the TestClock (the fake server's too): one call a second for three minutes.
  it.effect("6 token requests in the first minute of calls, then one a minute; one warning; every 401 returned", () => {
    const warnings: Array<string> = []
    const logger = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(String(message))
      })
    )
    return Effect.gen(function*() {
      const { api } = yield* servers
      yield* api.inject(Fault.Status({ status: 401 }), { path: eligibility, times: 1_000_000 })
      const tokenRequests = Effect.zipWith(api.count("/api/token"), api.count("/api/refresh"), (a, b) => a + b)
      const perMinute: Array<number> = []
      for (let minute = 0; minute < 3; minute++) {
        const before = yield* tokenRequests
        for (let second = 0; second < 60; second++) {
          expect((yield* post(eligibility)).status).toBe(401)
          yield* TestClock.adjust("1 second")
        }
        perMinute.push((yield* tokenRequests) - before)
      }
      // At 0 s (the first token and one renewal after its 401), then after rests of 2, 4, 8, 16, 32, 60, 60 s.
      expect(perMinute).toEqual([6, 1, 1])
      // 180 calls, and one retry: the first 401's.
      expect(yield* api.count(eligibility)).toBe(181)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/rejected 2 freshly issued tokens in a row \(HTTP 401\)/)
      expect(warnings[0]).toMatch(/scope.*audience.*clock/)
    }).pipe(withServers(http), Effect.provide(logger))
  }, 60_000)
})

describe("an app HttpClient that follows redirects itself, below the SDK", () => {
  it.live("the token endpoint does not use an answer from another origin", () =>
    Effect.gen(function*() {
      const { api, other } = yield* servers
      yield* api.inject(Fault.Redirect({ status: 307, location: `${other.url}/api/token` }), { path: "/api/token" })
      const error = yield* Effect.flip(post(eligibility))
      expect(error).toMatchObject({ _tag: "TokenRequestFailed", reason: "Redirected" })
      expect(error.message).toContain(
        `the answer came from another origin (${other.url}) after a redirect the HTTP client followed; not used`
      )
      // The known limit: such a client did send the request there (RELIABILITY.md, known limits).
      expect(yield* other.count("/api/token")).toBe(1)
      expect(yield* api.count(eligibility)).toBe(0)
    }).pipe(withServers(
      Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, HttpClient.followRedirects())).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )))
})

/**
 * A logging wrapper as apps write them: it passes method, headers, body and signal on, but not `redirect`, so
 * the global fetch follows redirects (a 307/308 with the body, which this wrapper made re-sendable).
 */
const followingFetch: typeof globalThis.fetch = (input, init) =>
  globalThis.fetch(input, {
    method: init?.method ?? "GET",
    headers: init?.headers ?? {},
    body: init?.body instanceof Uint8Array ? new TextDecoder().decode(init.body) : init?.body ?? null,
    signal: init?.signal ?? null
  })
/** A fetch that forces `redirect: "follow"` over the SDK's `"manual"`, with a body it can send again. */
const forcingFetch: typeof globalThis.fetch = (input, init) =>
  globalThis.fetch(input, {
    ...init,
    body: init?.body instanceof Uint8Array ? new TextDecoder().decode(init.body) : init?.body ?? null,
    redirect: "follow"
  })

describe.each(
  [
    ["a wrapper that drops redirect", followingFetch],
    ["a fetch forcing redirect: \"follow\"", forcingFetch]
  ] as const
)("a user fetch that follows redirects itself (%s)", (_, userFetch) => {
  const http = FetchHttpClient.layer.pipe(Layer.provide(Layer.succeed(FetchHttpClient.Fetch, userFetch)))

  it.live("the token endpoints never use an answer that came through a redirect: not another origin's token", () =>
    Effect.gen(function*() {
      const { api, other } = yield* servers
      // Retries allowed: a redirected answer is not retried (that would send the body along the redirect again).
      const endpoint = yield* TokenEndpoint.make({ ...api.credentials, baseUrl: api.url, maxRetries: 2 })
      const { tokens } = yield* endpoint.requestToken
      const calls: ReadonlyArray<readonly [string, Effect.Effect<unknown, Error>]> = [
        ["/api/token", endpoint.requestToken],
        ["/api/refresh", endpoint.refresh(tokens.refreshToken)]
      ]
      for (const [path, call] of calls) {
        for (const status of [301, 302, 303, 307, 308]) {
          const [apiBefore, otherBefore] = [yield* api.count(path), yield* other.count(path)]
          yield* api.inject(Fault.Redirect({ status, location: `${other.url}${path}` }), { path })
          // Whatever method the redirect made of the POST, the other host answers a token set of its own.
          yield* other.inject(Fault.Malformed({ body: tokenSetWith("EVIL_TOKEN") }), { path })
          const error = yield* Effect.flip(call)
          expect(error, `${path} ${status}`).toMatchObject({ _tag: "TokenRequestFailed", reason: "Redirected" })
          expect(error.message).toBe(
            `Token request to ${api.url}${path} failed: Redirected (HTTP 200): the answer came from another origin ` +
              `(${other.url}) after a redirect the HTTP client followed; not used`
          )
          expect(error.message).not.toContain("EVIL_TOKEN")
          // One request each: no retry. That the other host got one at all is the documented limit.
          expect([(yield* api.count(path)) - apiBefore, (yield* other.count(path)) - otherBefore]).toEqual([1, 1])
        }
      }
      // A redirect to the same origin, even to the same URL, is refused too: an answer that came through a
      // redirect is never used.
      yield* api.inject(Fault.Redirect({ status: 307, location: "/api/token" }), { path: "/api/token" })
      expect((yield* Effect.flip(endpoint.requestToken)).message).toContain(
        `the answer came through a redirect the HTTP client followed (to ${api.url}); not used`
      )
    }).pipe(withServers(http)))

  it.live(
    "through CairAuth and CairHttpClient: the caller gets the error, the API never sees the other token",
    () =>
      Effect.gen(function*() {
        const { api, other } = yield* servers
        for (const status of [301, 302, 303, 307, 308]) {
          yield* api.inject(Fault.Redirect({ status, location: `${other.url}/api/token` }), { path: "/api/token" })
          yield* other.inject(Fault.Malformed({ body: tokenSetWith("EVIL_TOKEN") }), { path: "/api/token" })
          // A client of its own for each status: the rest after a failure would answer the same error.
          const auth = yield* Layer.build(CairAuth.layer({ ...api.credentials, baseUrl: api.url })).pipe(
            Effect.map(Context.get(CairAuth.CairAuth))
          )
          const error = yield* Effect.flip(auth.accessToken)
          expect(error, String(status)).toMatchObject({ _tag: "TokenRequestFailed", reason: "Redirected" })
        }
        // Through CairHttpClient: the API never gets a request with the other host's token.
        yield* api.inject(Fault.Redirect({ status: 307, location: `${other.url}/api/token` }), { path: "/api/token" })
        yield* other.inject(Fault.Malformed({ body: tokenSetWith("EVIL_TOKEN") }), { path: "/api/token" })
        expect(yield* Effect.flip(post(eligibility))).toMatchObject({
          _tag: "TokenRequestFailed",
          reason: "Redirected"
        })
        // One token request each (default retries: none for a redirected answer); the other host got each.
        expect(yield* api.count("/api/token")).toBe(6)
        expect(yield* other.count("/api/token")).toBe(6)
        expect(yield* api.count(eligibility)).toBe(0)
      }).pipe(Effect.scoped, withServers(http)),
    60_000
  )
})
