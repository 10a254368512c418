import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { execFile } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { FakeCairServer } from "../src/index.js"
import * as OpenApi from "./utils/openApi.js"

const { Fault } = FakeCairServer

const withServer = (options?: FakeCairServer.Options) =>
  Effect.provide(Layer.merge(FakeCairServer.layer(options), FetchHttpClient.layer))

interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

interface TokenSet {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresAt: string
  readonly refreshTokenExpiresAt: string
}

interface Send {
  readonly body?: unknown
  readonly raw?: string
  readonly bearer?: string
}

const request = (path: string, options: Send) =>
  Effect.map(FakeCairServer.FakeCairServer, (server) =>
    HttpClientRequest.post(server.url + path).pipe(
      options.raw !== undefined
        ? HttpClientRequest.bodyText(options.raw, "application/json")
        : options.body !== undefined
        ? HttpClientRequest.bodyUnsafeJson(options.body)
        : identity,
      options.bearer !== undefined ? HttpClientRequest.bearerToken(options.bearer) : identity
    ))

const call = (path: string, options: Send = {}) =>
  Effect.gen(function*() {
    const response = yield* Effect.flatMap(request(path, options), HttpClient.execute)
    return { status: response.status, headers: response.headers, text: yield* response.text } satisfies Answer
  })

const json = (answer: Answer): unknown => JSON.parse(answer.text)

/** Asserts that `answer` is a 200 with exactly the TokenSet properties of the OpenAPI file. */
const assertTokenSet = (answer: Answer, path: string): TokenSet => {
  const schema = OpenApi.responseSchema(path, 200)
  const body = json(answer)
  assert.strictEqual(answer.status, 200)
  assert.include(answer.headers["content-type"], "application/json")
  assert.deepStrictEqual(Object.keys(body as object).sort(), OpenApi.propertyNames(schema))
  assert.deepStrictEqual(OpenApi.violations(schema, body), [])
  return body as TokenSet
}

/** Asserts that `answer` has `status` and exactly a string `message`, as the OpenAPI `Error` schema allows. */
const assertError = (answer: Answer, status: number, path?: string) => {
  const body = json(answer)
  assert.strictEqual(answer.status, status)
  assert.deepStrictEqual(Object.keys(body as object), ["message"])
  assert.isString((body as { message: unknown }).message)
  if (path !== undefined) {
    assert.deepStrictEqual(OpenApi.violations(OpenApi.responseSchema(path, status), body), [])
  }
}

const issue = Effect.flatMap(
  FakeCairServer.FakeCairServer,
  (server) =>
    Effect.map(call("/api/token", { body: server.credentials }), (answer) => assertTokenSet(answer, "/api/token"))
)

const refresh = (refreshToken: string) => call("/api/refresh", { body: { refreshToken } })

const eligibility = (bearer?: string) =>
  call("/api/eligibility/v1", { body: { memberId: "m-1" }, ...(bearer === undefined ? {} : { bearer }) })

describe("FakeCairServer", () => {
  it("serves the paths of the OpenAPI file", () => {
    assert.deepStrictEqual(Object.keys(OpenApi.spec.paths).sort(), ["/api/refresh", "/api/token"])
    assert.deepStrictEqual(OpenApi.propertyNames(OpenApi.requestSchema("/api/token")), ["clientId", "clientSecret"])
    assert.deepStrictEqual(OpenApi.propertyNames(OpenApi.requestSchema("/api/refresh")), ["refreshToken"])
  })

  it.effect("POST /api/token answers a TokenSet for the default credentials", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.FakeCairServer
      assert.deepStrictEqual(server.credentials, { clientId: "demo-client", clientSecret: "demo-secret" })
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const tokenSet = yield* issue
      assert.match(tokenSet.accessToken, /^fake-at-/)
      assert.match(tokenSet.refreshToken, /^fake-rt-/)
      assert.strictEqual(tokenSet.expiresAt, "1970-01-01T00:10:00.000Z")
      assert.strictEqual(tokenSet.refreshTokenExpiresAt, "1970-01-02T00:00:00.000Z")
    }).pipe(withServer()))

  it.effect("POST /api/token answers 401 Invalid credentials for wrong credentials", () =>
    Effect.gen(function*() {
      const answer = yield* call("/api/token", { body: { clientId: "demo-client", clientSecret: "wrong" } })
      assertError(answer, 401, "/api/token")
      assert.deepStrictEqual(json(answer), { message: "Invalid credentials" })
    }).pipe(withServer()))

  it.effect("accepts configured credentials only", () =>
    Effect.gen(function*() {
      assertError(yield* call("/api/token", { body: FakeCairServer.defaultCredentials }), 401, "/api/token")
      assertTokenSet(yield* call("/api/token", { body: { clientId: "c", clientSecret: "s" } }), "/api/token")
    }).pipe(withServer({ credentials: { clientId: "c", clientSecret: "s" } })))

  // Not a shared `layer(...)` block: in @effect/vitest 0.30 it overwrites `it.effect` for the rest of the file.
  for (const path of ["/api/token", "/api/refresh"]) {
    for (const [name, raw] of OpenApi.invalidRequestBodies(path)) {
      it.effect(`POST ${path} ${name} answers 400 {message}`, () =>
        Effect.map(call(path, { raw }), (answer) => assertError(answer, 400)).pipe(withServer()))
    }
  }

  it.effect("POST /api/refresh rotates: each refresh token works once", () =>
    Effect.gen(function*() {
      const first = yield* issue
      const second = assertTokenSet(yield* refresh(first.refreshToken), "/api/refresh")
      assert.notStrictEqual(second.refreshToken, first.refreshToken)
      assert.notStrictEqual(second.accessToken, first.accessToken)
      assertError(yield* refresh(first.refreshToken), 401, "/api/refresh")
      assertTokenSet(yield* refresh(second.refreshToken), "/api/refresh")
      assertError(yield* refresh("fake-rt-unknown"), 401, "/api/refresh")
    }).pipe(withServer()))

  it.effect("POST /api/refresh rejects an expired refresh token", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.FakeCairServer
      yield* server.setLifetimes({ refreshTokenTtlMs: 60_000 })
      const tokenSet = yield* issue
      assert.strictEqual(tokenSet.refreshTokenExpiresAt, "1970-01-01T00:01:00.000Z")
      yield* TestClock.adjust("1 minute")
      assertError(yield* refresh(tokenSet.refreshToken), 401, "/api/refresh")
    }).pipe(withServer()))

  it.effect("the protected endpoint needs a valid, unexpired, unrevoked access token", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.FakeCairServer
      assertError(yield* eligibility(), 401)
      assertError(yield* eligibility("fake-at-unknown"), 401)
      const tokenSet = yield* issue
      const answer = yield* eligibility(tokenSet.accessToken)
      assert.strictEqual(answer.status, 200)
      assert.deepStrictEqual(json(answer), { eligible: true, memberId: "m-1" })

      yield* server.revokeAccessTokens
      assertError(yield* eligibility(tokenSet.accessToken), 401)
      const refreshed = assertTokenSet(yield* refresh(tokenSet.refreshToken), "/api/refresh")
      assert.strictEqual((yield* eligibility(refreshed.accessToken)).status, 200)

      yield* server.revokeAll
      assertError(yield* eligibility(refreshed.accessToken), 401)
      assertError(yield* refresh(refreshed.refreshToken), 401, "/api/refresh")
    }).pipe(withServer()))

  it.effect("access tokens expire on the server's clock", () =>
    Effect.gen(function*() {
      const tokenSet = yield* issue
      yield* TestClock.adjust("9 minutes")
      assert.strictEqual((yield* eligibility(tokenSet.accessToken)).status, 200)
      yield* TestClock.adjust("1 minute")
      assertError(yield* eligibility(tokenSet.accessToken), 401)
    }).pipe(withServer()))

  it.effect("clockOffsetMs shifts the issued dates and the Date header", () =>
    Effect.gen(function*() {
      const answer = yield* Effect.flatMap(FakeCairServer.FakeCairServer, (server) =>
        call("/api/token", { body: server.credentials }))
      const tokenSet = assertTokenSet(answer, "/api/token")
      assert.strictEqual(answer.headers["date"], "Thu, 01 Jan 1970 01:00:00 GMT")
      assert.strictEqual(tokenSet.expiresAt, "1970-01-01T01:01:00.000Z")
      assert.strictEqual(tokenSet.refreshTokenExpiresAt, "1970-01-01T02:00:00.000Z")
    }).pipe(withServer({ clockOffsetMs: 60 * 60_000, accessTokenTtlMs: 60_000, refreshTokenTtlMs: 60 * 60_000 })))

  it.effect("logs every request", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.FakeCairServer
      const tokenSet = yield* issue
      yield* refresh(tokenSet.refreshToken)
      yield* eligibility(tokenSet.accessToken)
      yield* call("/api/unknown")
      assert.strictEqual(yield* server.count(), 4)
      assert.strictEqual(yield* server.count("/api/token"), 1)
      const requests = yield* server.requests
      assert.deepStrictEqual(requests.map(({ method, path, status }) => `${method} ${path} ${status}`), [
        "POST /api/token 200",
        "POST /api/refresh 200",
        "POST /api/eligibility/v1 200",
        "POST /api/unknown 404"
      ])
      assert.deepStrictEqual(requests.map((entry) => entry.authorization), [false, false, true, false])
      assert.deepStrictEqual(requests.map((entry) => entry.refreshToken), [
        undefined,
        tokenSet.refreshToken,
        undefined,
        undefined
      ])
      assert.deepStrictEqual(requests.map((entry) => entry.fault), [undefined, undefined, undefined, undefined])
      assert.deepStrictEqual(requests[0]!.time, new Date(0))
      yield* server.resetLog
      assert.strictEqual(yield* server.count(), 0)
    }).pipe(withServer()))

  describe("faults", () => {
    it.effect("Status answers the status, Retry-After and body, for the next N matching requests in order", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.Status({ status: 503, retryAfter: "7" }), { path: "/api/token", times: 2 })
        yield* server.inject(Fault.Status({ status: 429, body: "{\"message\":\"slow down\"}" }))
        const refused = yield* refresh("fake-rt-unknown")
        assert.deepStrictEqual([refused.status, json(refused)], [429, { message: "slow down" }])
        for (let i = 0; i < 2; i++) {
          const answer = yield* call("/api/token", { body: server.credentials })
          assertError(answer, 503)
          assert.strictEqual(answer.headers["retry-after"], "7")
        }
        yield* issue
        const faults = (yield* server.requests).map((entry) => entry.fault?._tag)
        assert.deepStrictEqual(faults, ["Status", "Status", "Status", undefined])
      }).pipe(withServer()))

    it.effect("clearFaults ends an outage injected with a large count", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.Status({ status: 503 }), { times: 1_000_000 })
        assertError(yield* call("/api/token", { body: server.credentials }), 503)
        yield* server.clearFaults
        yield* issue
      }).pipe(withServer()))

    const dates = { expiresAt: "2025-03-24T18:38:47.781Z", refreshTokenExpiresAt: "2025-03-25T18:28:47.781Z" }
    const malformed = [
      ["not JSON", "this is not json", "text/plain"],
      ["an HTML page", "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"],
      ["missing fields", JSON.stringify({ accessToken: "a" }), undefined],
      [
        "wrong types",
        JSON.stringify({ accessToken: 1, refreshToken: 2, expiresAt: 3, refreshTokenExpiresAt: 4 }),
        undefined
      ],
      [
        "invalid dates",
        JSON.stringify({ accessToken: "a", refreshToken: "r", expiresAt: "soon", refreshTokenExpiresAt: "later" }),
        undefined
      ],
      ["extra fields", JSON.stringify({ accessToken: "a", refreshToken: "r", ...dates, extra: true }), undefined]
    ] as const
    for (const [name, body, contentType] of malformed) {
      it.effect(`Malformed answers 200 with ${name}`, () =>
        Effect.gen(function*() {
          const server = yield* FakeCairServer.FakeCairServer
          yield* server.inject(Fault.Malformed({ body, contentType }))
          const answer = yield* call("/api/token", { body: server.credentials })
          assert.strictEqual(answer.status, 200)
          assert.strictEqual(answer.text, body)
          assert.include(answer.headers["content-type"], contentType ?? "application/json")
        }).pipe(withServer()))
    }

    it.effect("HugeBody answers 200 with that many bytes", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.HugeBody({ bytes: 5_000_000 }))
        const answer = yield* call("/api/token", { body: server.credentials })
        assert.strictEqual(answer.status, 200)
        assert.strictEqual(answer.headers["content-length"], "5000000")
        assert.strictEqual(answer.text.length, 5_000_000)
      }).pipe(withServer()))

    it.effect("Truncated announces a body it does not finish", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.Truncated())
        const response = yield* Effect.flatMap(request("/api/token", { body: server.credentials }), HttpClient.execute)
        assert.strictEqual(response.status, 200)
        assert.isAbove(Number(response.headers["content-length"]), 0)
        const body = yield* Effect.either(response.text)
        assert.isTrue(Either.isLeft(body))
        assert.strictEqual((yield* server.requests)[0]!.status, 200)
      }).pipe(withServer()))

    it.effect("Reset closes the connection without an answer", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.Reset())
        const failed = yield* Effect.flip(call("/api/token", { body: server.credentials }))
        assert.strictEqual(failed._tag, "RequestError")
        yield* issue
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((entry) => [entry.fault?._tag, entry.status]), [["Reset", undefined], [
          undefined,
          200
        ]])
      }).pipe(withServer()))

    it.effect("Delay answers normally once the server's clock has moved on", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.Delay({ duration: "1 minute" }))
        const answer = yield* Effect.fork(call("/api/token", { body: server.credentials }))
        yield* server.awaitCount(1)
        assert.isTrue(Option.isNone(yield* Fiber.poll(answer)))
        yield* TestClock.adjust("1 minute")
        assertTokenSet(yield* Fiber.join(answer), "/api/token")
        const [entry] = yield* server.requests
        assert.deepStrictEqual([entry!.fault?._tag, entry!.status], ["Delay", 200])
      }).pipe(withServer()))

    it.scoped("Hang never answers, and stopping the server ends it", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const server = yield* Scope.extend(FakeCairServer.make(), scope)
        yield* server.inject(Fault.Hang())
        const answer = yield* call("/api/token", { body: server.credentials }).pipe(
          Effect.provideService(FakeCairServer.FakeCairServer, server),
          Effect.fork
        )
        yield* server.awaitCount(1)
        yield* Scope.close(scope, Exit.void)
        const exit = yield* Fiber.await(answer)
        assert.isTrue(Exit.isFailure(exit))
        const [entry] = yield* server.requests
        assert.deepStrictEqual([entry!.fault?._tag, entry!.status], ["Hang", undefined])
      }).pipe(Effect.provide(FetchHttpClient.layer)))

    it.effect("DateHeader answers normally with the given Date header: a broken header on a good token set", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.DateHeader({ date: "Thu, 01 Jan 1970 00:00:00 GMT" }), { path: "/api/token" })
        const answer = yield* call("/api/token", { body: server.credentials })
        const tokenSet = assertTokenSet(answer, "/api/token")
        assert.strictEqual(answer.headers["date"], "Thu, 01 Jan 1970 00:00:00 GMT")
        assert.strictEqual((yield* eligibility(tokenSet.accessToken)).status, 200)
        assert.notStrictEqual(
          (yield* call("/api/token", { body: server.credentials })).headers["date"],
          answer.headers["date"]
        )
      }).pipe(withServer({ clockOffsetMs: 86_400_000 })))

    it.effect("ExpiredTokenSet issues an access token that has already expired", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        yield* server.inject(Fault.ExpiredTokenSet(), { path: "/api/token" })
        const expired = yield* issue
        assert.isBelow(Date.parse(expired.expiresAt), 0)
        assertError(yield* eligibility(expired.accessToken), 401)
        const refreshed = assertTokenSet(yield* refresh(expired.refreshToken), "/api/refresh")
        assert.strictEqual((yield* eligibility(refreshed.accessToken)).status, 200)
      }).pipe(withServer()))

    it.effect("a faulted refresh leaves its refresh token usable, and the log shows it sent twice", () =>
      Effect.gen(function*() {
        const server = yield* FakeCairServer.FakeCairServer
        const tokenSet = yield* issue
        yield* server.inject(Fault.Status({ status: 503 }), { path: "/api/refresh" })
        assertError(yield* refresh(tokenSet.refreshToken), 503)
        assertTokenSet(yield* refresh(tokenSet.refreshToken), "/api/refresh")
        const refreshes = (yield* server.requests).filter((entry) => entry.path === "/api/refresh")
        const sent = refreshes.map((entry) => entry.refreshToken)
        assert.deepStrictEqual(sent, [tokenSet.refreshToken, tokenSet.refreshToken])
      }).pipe(withServer()))
  })

  describe("Promise API", () => {
    it("starts, answers, injects faults and stops", async () => {
      const server = await FakeCairServer.start({ credentials: { clientId: "p", clientSecret: "q" } })
      const post = (body: unknown) =>
        fetch(`${server.url}/api/token`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.status)
      assert.strictEqual(await post(server.credentials), 200)
      server.inject(Fault.Status({ status: 500 }))
      assert.strictEqual(await post(server.credentials), 500)
      assert.strictEqual(await post(FakeCairServer.defaultCredentials), 401)
      await server.awaitCount(3, "/api/token")
      assert.strictEqual(server.count("/api/token"), 3)
      assert.deepStrictEqual(server.requests().map((entry) => entry.status), [200, 500, 401])
      await server.stop()
      await server.stop()
      const afterStop = await post(server.credentials).then(() => "answered", () => "refused")
      assert.strictEqual(afterStop, "refused")
    })

    it("rejects with the ServeError when the port is taken", async () => {
      const server = await FakeCairServer.start()
      const taken = FakeCairServer.start({ port: Number(new URL(server.url).port) })
      const error: unknown = await taken.then(() => undefined, identity)
      await server.stop()
      assert.strictEqual((error as { readonly _tag?: string } | undefined)?._tag, "ServeError")
    })

    it("a process that stopped its server exits by itself", async () => {
      const require = createRequire(import.meta.url)
      const viteNode = require.resolve("vite-node/vite-node.mjs")
      const fixture = fileURLToPath(new URL("./fixtures/stopExits.ts", import.meta.url))
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [viteNode, fixture],
          { timeout: 100_000 },
          (error, stdout) => error ? reject(error) : resolve(stdout)
        )
      )
      assert.strictEqual(stdout.trim(), "[\"closed\",\"closed\"]")
    }, 120_000)
  })
})
