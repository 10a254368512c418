import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { inspect } from "node:util"
import * as CairAuth from "../src/CairAuth.js"
import { TokenRequestFailed } from "../src/CairAuthError.js"
import * as CairAuthTest from "../src/CairAuthTest.js"
import * as CairHttpClient from "../src/CairHttpClient.js"
import type { Reply } from "./fixtures.js"
import { allSecrets, credentials, jsonResponse, secrets, tokenResponse } from "./fixtures.js"
import { makeCapture } from "./utils/harness.js"

const baseUrl = "https://cair.test"

/** What the scripted server saw of one request. */
interface Seen {
  readonly method: string
  readonly url: URL
  readonly authorization: string | undefined
  /** The bytes of a stream body, which the server reads. */
  readonly streamed: number | undefined
}

const bearer = (n: number) => `Bearer ${secrets.accessToken(n)}`
const isTokenEndpoint = (seen: Seen) => /\/api\/(?:token|refresh)$/.test(seen.url.pathname)

/**
 * A scripted Cair server: the two token endpoints issue token set `n` for their `n`th request
 * (unless `token` says otherwise), every other request is answered by `api` (given how many API
 * requests came before it).
 */
const cairServer = (
  api: (seen: Seen, index: number) => Effect.Effect<Reply>,
  token: (seen: Seen, index: number) => Effect.Effect<Reply> = (_, index) =>
    Effect.map(Clock.currentTimeMillis, (now) => tokenResponse({ n: index, now }))
) =>
  Effect.gen(function*() {
    const log = yield* Ref.make<ReadonlyArray<Seen>>([])
    const client = HttpClient.make((request, url) =>
      Effect.gen(function*() {
        const streamed = request.body._tag === "Stream"
          ? yield* Stream.runFold(Stream.orDie(request.body.stream), 0, (n, chunk) => n + chunk.length)
          : undefined
        const seen: Seen = { method: request.method, url, authorization: request.headers.authorization, streamed }
        const before = yield* Ref.getAndUpdate(log, (list) => [...list, seen])
        const tokenRequest = isTokenEndpoint(seen)
        const index = before.filter((s) => isTokenEndpoint(s) === tokenRequest).length
        const reply = yield* (tokenRequest ? token(seen, index) : api(seen, index))
        if (reply === "hang") return yield* Effect.never
        if (reply === "network-error") {
          return yield* new HttpClientError.RequestError({ request, reason: "Transport", cause: "connection reset" })
        }
        return HttpClientResponse.fromWeb(request, reply)
      })
    )
    const seen = Ref.get(log)
    return {
      layer: Layer.succeed(HttpClient.HttpClient, client),
      api: Effect.map(seen, (list) => list.filter((s) => !isTokenEndpoint(s))),
      tokenPaths: Effect.map(seen, (list) => list.filter(isTokenEndpoint).map((s) => s.url.pathname)),
      /** Lets other fibers run until `n` API requests have arrived. */
      awaitApi: (n: number) =>
        Effect.yieldNow().pipe(
          Effect.zipRight(Effect.map(seen, (list) => list.filter((s) => !isTokenEndpoint(s)).length)),
          Effect.repeat({ until: (count) => count >= n, times: 10_000 }),
          Effect.filterOrDieMessage((count) => count >= n, `expected ${n} API requests`)
        )
    }
  })

/** `CairHttpClient` on the real `CairAuth`, both on the scripted server, in the test's scope. */
const setup = (
  api: (seen: Seen, index: number) => Effect.Effect<Reply>,
  options: {
    readonly token?: (seen: Seen, index: number) => Effect.Effect<Reply>
    readonly baseUrl?: string
  } = {}
) =>
  Effect.gen(function*() {
    const server = yield* cairServer(api, options.token)
    const context = yield* Layer.build(
      CairHttpClient.layer().pipe(
        Layer.provide(CairAuth.layer({ ...credentials, baseUrl: options.baseUrl ?? baseUrl, maxRetries: 0 })),
        Layer.provide(server.layer)
      )
    )
    return { client: Context.get(context, CairHttpClient.CairHttpClient), server }
  })

/** `CairHttpClient` on `CairAuthTest`, for assertions on the calls the client makes. */
const setupWithDouble = (
  steps: Parameters<typeof CairAuthTest.make>[0],
  api: (seen: Seen, index: number) => Effect.Effect<Reply>
) =>
  Effect.gen(function*() {
    const server = yield* cairServer(api)
    const double = yield* CairAuthTest.make(steps)
    const client = yield* CairHttpClient.make().pipe(
      Effect.provideService(CairAuth.CairAuth, double.auth),
      Effect.provide(server.layer)
    )
    return { client, calls: double.calls, server }
  })

const ok = (body: unknown = { ok: true }) => Effect.succeed(jsonResponse(200, body))
const unauthorized = () => Effect.succeed(jsonResponse(401, { message: "token revoked" }))
/** 401 for the access token number `n`, 200 for any other. */
const rejecting = (n: number) => (seen: Seen) => seen.authorization === bearer(n) ? unauthorized() : ok()

describe("CairHttpClient", () => {
  it.scoped("sends the bearer token of CairAuth, to URLs under the base URL only", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(() => ok())
      const response = yield* client.get("/v1/forecasts", { urlParams: { site: "3" } })
      expect(response.status).toBe(200)
      yield* client.post("v1/forecasts", { body: HttpBody.unsafeJson({ a: 1 }) })
      const refused = yield* Effect.flip(client.get("https://elsewhere.test/steal"))
      expect(refused).toMatchObject({
        _tag: "RequestError",
        reason: "InvalidUrl",
        cause: { _tag: "UnsafeRequestUrl", reason: "OtherOrigin", origin: "https://elsewhere.test" }
      })
      yield* client.get("evil.test/steal")
      yield* client.get("https://cair.test/v1/absolute")
      const api = yield* server.api
      expect(api.map((s) => `${s.method} ${s.url.href}`)).toEqual([
        "GET https://cair.test/v1/forecasts?site=3",
        "POST https://cair.test/v1/forecasts",
        "GET https://cair.test/evil.test/steal",
        "GET https://cair.test/v1/absolute"
      ])
      expect(api.map((s) => s.authorization)).toEqual(Array.from({ length: 4 }, () => bearer(0)))
      expect(yield* server.tokenPaths).toEqual(["/api/token"])
    }))

  it.scoped("keeps the path of a base URL", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(() => ok(), { baseUrl: "https://cair.test/gateway/" })
      yield* client.get("/v1/forecasts")
      expect((yield* server.api).map((s) => s.url.href)).toEqual(["https://cair.test/gateway/v1/forecasts"])
    }))

  it.scoped("a 401 invalidates the token the request carried and sends it once more with a new token", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(rejecting(0))
      const response = yield* client.post("/v1/reports", { body: HttpBody.unsafeJson({ a: 1 }) })
      expect(response.status).toBe(200)
      expect((yield* server.api).map((s) => [s.method, s.url.pathname, s.authorization])).toEqual([
        ["POST", "/v1/reports", bearer(0)],
        ["POST", "/v1/reports", bearer(1)]
      ])
      expect(yield* server.tokenPaths).toEqual(["/api/token", "/api/refresh"])
      // The new token serves the next requests.
      yield* client.get("/v1/reports")
      expect(yield* server.tokenPaths).toEqual(["/api/token", "/api/refresh"])
    }))

  it.scoped("invalidates exactly the token it sent (seen through CairAuthTest)", () =>
    Effect.gen(function*() {
      const { calls, client, server } = yield* setupWithDouble(
        ["token-one", "token-two"],
        (seen) => seen.authorization === "Bearer token-one" ? unauthorized() : ok()
      )
      expect((yield* client.get("/v1/reports")).status).toBe(200)
      expect(yield* calls).toEqual([
        { method: "get", generation: 1 },
        { method: "rejected", generation: 1 },
        { method: "get", generation: 2 }
      ])
      expect((yield* server.api).map((s) => s.authorization)).toEqual(["Bearer token-one", "Bearer token-two"])
    }))

  it.scoped("a second 401 is the response, not an error, and costs no further token", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(unauthorized)
      const response = yield* client.get("/v1/admin")
      expect(response.status).toBe(401)
      expect(yield* response.json).toEqual({ message: "token revoked" })
      expect((yield* server.api).map((s) => s.authorization)).toEqual([bearer(0), bearer(1)])
      expect(yield* server.tokenPaths).toEqual(["/api/token", "/api/refresh"])
    }))

  it.scoped("50 concurrent requests rejected for the same token cause exactly one new token", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { client, server } = yield* setup((seen) =>
        seen.authorization === bearer(0) ? Effect.zipRight(Deferred.await(gate), unauthorized()) : ok()
      )
      const requests = yield* Effect.fork(
        Effect.all(Array.from({ length: 50 }, (_, i) => client.get(`/v1/patients/${i}`)), { concurrency: "unbounded" })
      )
      yield* server.awaitApi(50)
      yield* Deferred.succeed(gate, void 0)
      const responses = yield* Fiber.join(requests)
      expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 200))
      expect(yield* server.tokenPaths).toEqual(["/api/token", "/api/refresh"])
      const api = yield* server.api
      expect(api.length).toBe(100)
      expect(api.filter((s) => s.authorization === bearer(1)).length).toBe(50)
    }))

  it.scoped("a late 401 for a token that was already replaced leaves the new token alone", () =>
    Effect.gen(function*() {
      const late = yield* Deferred.make<void>()
      const { client, server } = yield* setup((seen) =>
        seen.authorization !== bearer(0)
          ? ok()
          : seen.url.pathname === "/v1/slow"
          ? Effect.zipRight(Deferred.await(late), unauthorized())
          : unauthorized()
      )
      const slow = yield* Effect.fork(client.get("/v1/slow"))
      yield* server.awaitApi(1)
      expect((yield* client.get("/v1/fast")).status).toBe(200)
      yield* Deferred.succeed(late, void 0)
      expect((yield* Fiber.join(slow)).status).toBe(200)
      expect(yield* server.tokenPaths).toEqual(["/api/token", "/api/refresh"])
      expect((yield* server.api).map((s) => [s.url.pathname, s.authorization])).toEqual([
        ["/v1/slow", bearer(0)],
        ["/v1/fast", bearer(0)],
        ["/v1/fast", bearer(1)],
        ["/v1/slow", bearer(1)]
      ])
    }))

  it.scoped("a stream body is sent once: its 401 is returned, and the next request gets a new token", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(rejecting(0))
      const upload = HttpClientRequest.post("/v1/uploads").pipe(
        HttpClientRequest.bodyStream(Stream.make(new Uint8Array(3), new Uint8Array(4)), { contentLength: 7 })
      )
      const response = yield* client.execute(upload)
      expect(response.status).toBe(401)
      expect((yield* server.api).map((s) => [s.url.pathname, s.streamed])).toEqual([["/v1/uploads", 7]])
      expect((yield* client.get("/v1/uploads")).status).toBe(200)
      expect((yield* server.api).map((s) => s.authorization)).toEqual([bearer(0), bearer(1)])
      expect(yield* server.tokenPaths).toEqual(["/api/token", "/api/refresh"])
    }))

  it.scoped("a token that cannot be obtained fails the request with the typed CairAuthError, sending nothing", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(
        () => ok(),
        { token: () => Effect.succeed(jsonResponse(401, { message: "Invalid credentials" })) }
      )
      const error = yield* Effect.flip(client.get("/v1/forecasts"))
      expect(error).toMatchObject({ _tag: "InvalidCredentials", clientId: credentials.clientId, status: 401 })
      // Typed: the tag can be caught like any other error of the client.
      const recovered = yield* client.get("/v1/forecasts").pipe(
        Effect.as("sent"),
        Effect.catchTag("InvalidCredentials", (e) => Effect.succeed(`not sent: HTTP ${e.status}`))
      )
      expect(recovered).toBe("not sent: HTTP 401")
      expect(yield* server.api).toEqual([])
    }))

  it.scoped("a failure to get the new token after a 401 is the error of the request", () =>
    Effect.gen(function*() {
      const down = new TokenRequestFailed({
        endpoint: "/api/refresh",
        reason: "Status",
        status: 503,
        description: "down"
      })
      const { calls, client } = yield* setupWithDouble(["token-one", down], unauthorized)
      const error = yield* Effect.flip(client.get("/v1/forecasts"))
      expect(error).toBe(down)
      expect((yield* calls).map((c) => c.method)).toEqual(["get", "rejected", "get"])
    }))

  it.scoped("HttpClient combinators compose on top: filterStatusOk sees the answer after the retry", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(rejecting(0))
      const checked = client.pipe(HttpClient.filterStatusOk)
      const body = yield* checked.get("/v1/forecasts").pipe(
        Effect.flatMap(HttpClientResponse.schemaBodyJson(Schema.Struct({ ok: Schema.Boolean })))
      )
      expect(body).toEqual({ ok: true })
      expect((yield* server.api).length).toBe(2)
    }))

  it.scoped("followRedirects composes on top: every hop carries the token", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup((seen) =>
        seen.url.pathname === "/v1/old"
          ? Effect.succeed(new Response(null, { status: 302, headers: { location: "/v1/new" } }))
          : ok()
      )
      const response = yield* HttpClient.followRedirects(client).get("/v1/old")
      expect(response.status).toBe(200)
      expect((yield* server.api).map((s) => [s.url.href, s.authorization])).toEqual([
        ["https://cair.test/v1/old", bearer(0)],
        ["https://cair.test/v1/new", bearer(0)]
      ])
    }))

  it.scoped("no token appears in errors, responses, spans or logs", () =>
    Effect.gen(function*() {
      const capture = yield* makeCapture
      const run = capture.run
      const { client } = yield* run(setup((seen) =>
        seen.url.pathname === "/v1/down"
          ? Effect.succeed("network-error" as const)
          : seen.url.pathname === "/v1/broken"
          ? Effect.succeed(new Response("{not json", { status: 200, headers: { "content-type": "application/json" } }))
          : seen.url.pathname === "/v1/fails"
          ? Effect.succeed(jsonResponse(500, { message: "boom" }))
          : rejecting(0)(seen)
      ))
      const response = yield* run(client.get("/v1/forecasts"))
      const transport = yield* run(Effect.flip(client.get("/v1/down")))
      const status = yield* run(Effect.flip(HttpClient.filterStatusOk(client).get("/v1/fails")))
      const decode = yield* run(Effect.flip(Effect.flatMap(client.get("/v1/broken"), (r) => r.json)))
      const exit = yield* run(Effect.exit(client.get("/v1/down")))
      expect(transport).toMatchObject({ _tag: "RequestError", reason: "Transport" })
      expect(status).toMatchObject({ _tag: "ResponseError", reason: "StatusCode" })
      expect(decode).toMatchObject({ _tag: "ResponseError", reason: "Decode" })
      expect(Exit.isFailure(exit)).toBe(true)
      // The request is still there for debugging, the token is not.
      for (const error of [transport, status, decode]) {
        expect(HttpClientError.isHttpClientError(error) && error.request.headers.authorization).toBe("<redacted>")
      }
      expect(response.request.headers.authorization).toBe("<redacted>")
      const outputs = [
        ...capture.lines,
        ...[transport, status, decode].flatMap((e) => [
          e.message,
          String(e),
          inspect(e, { depth: 10 }),
          JSON.stringify(e)
        ]),
        inspect(response, { depth: 10 }),
        JSON.stringify(response),
        Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "",
        ...capture.spans().flatMap((span) =>
          span.attributes.map(([key, value]) => `${span.name} ${key}=${String(value)}`)
        )
      ]
      expect(capture.lines.some((line) => line.includes("retrying once"))).toBe(true)
      const authorizationAttributes = outputs.filter((line) => line.includes("http.request.header.authorization"))
      expect(authorizationAttributes.length).toBeGreaterThan(0)
      for (const output of outputs) {
        for (const secret of allSecrets()) expect(output).not.toContain(secret)
      }
    }))
})

describe("CairHttpClient configuration: one base URL, CairAuth's", () => {
  const build = (auth: (server: Layer.Layer<HttpClient.HttpClient>) => Layer.Layer<CairAuth.CairAuth>, options?: {
    readonly baseUrl: string
  }) =>
    Effect.gen(function*() {
      const server = yield* cairServer(() => ok())
      const context = yield* Layer.build(
        CairHttpClient.layer(options).pipe(Layer.provide(auth(server.layer)), Layer.provide(server.layer))
      )
      return { client: Context.get(context, CairHttpClient.CairHttpClient), server }
    })
  const staging = "https://staging.cair.test"

  it.scoped("a bare CairHttpClient.layer() goes to the baseUrl of CairAuth.layer: no default of its own", () =>
    Effect.gen(function*() {
      const { client, server } = yield* build((http) =>
        CairAuth.layer({ ...credentials, baseUrl: staging, maxRetries: 0 }).pipe(Layer.provide(http))
      )
      yield* client.get("/eligibility/v1")
      expect((yield* server.api).map((s) => [s.url.href, s.authorization])).toEqual([
        ["https://staging.cair.test/eligibility/v1", bearer(0)]
      ])
      expect(yield* server.tokenPaths).toEqual(["/api/token"])
    }))

  it.scoped("CAIR_BASE_URL, read by CairAuth.layerConfig, is the client's base URL too", () =>
    Effect.gen(function*() {
      const env = new Map([["CAIR_CLIENT_ID", "clinic-42"], ["CAIR_CLIENT_SECRET", credentials.clientSecret], [
        "CAIR_BASE_URL",
        "http://127.0.0.1:8080/"
      ]])
      const { client, server } = yield* build((http) => CairAuth.layerConfig.pipe(Layer.provide(http), Layer.orDie))
        .pipe(Effect.withConfigProvider(ConfigProvider.fromMap(env)))
      yield* client.get("/v1/forecasts")
      expect((yield* server.api).map((s) => s.url.href)).toEqual(["http://127.0.0.1:8080/v1/forecasts"])
    }))

  it.scoped("a baseUrl option is accepted when it is CairAuth's; another one is a defect", () =>
    Effect.gen(function*() {
      const same = yield* build(() => CairAuthTest.layerFixed("t", { baseUrl: staging }), { baseUrl: `${staging}/` })
      yield* same.client.get("/v1/forecasts")
      expect((yield* same.server.api).map((s) => s.url.href)).toEqual(["https://staging.cair.test/v1/forecasts"])
      for (const other of ["https://forecaster.cairhealth.com", "ftp://cair.test"]) {
        const exit = yield* Effect.exit(
          build(() => CairAuthTest.layerFixed("t", { baseUrl: staging }), { baseUrl: other })
        )
        expect(exit).toMatchObject({
          _tag: "Failure",
          cause: { _tag: "Die", defect: { _tag: "InvalidOptions", option: "baseUrl" } }
        })
      }
    }))
})
