/**
 * Safe by default: `baseUrl` must be `https:` unless the host is loopback (a clear error otherwise), a response
 * body is read up to a bound and no further, and nothing is ever put in a URL: the secrets travel in the body.
 */
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as CairAuth from "../src/CairAuth.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import { acceptedBaseUrls, refusedBaseUrls } from "./utils/baseUrls.js"
import { credentials } from "./utils/secrets.js"

const { Fault } = FakeCairServer

describe("safe by default", () => {
  it("baseUrl: https, or http on a loopback host only; anything else is refused with a clear error", () => {
    for (const baseUrl of acceptedBaseUrls) {
      expect(Either.isRight(CairAuth.validateOptions({ ...credentials, baseUrl })), baseUrl).toBe(true)
    }
    for (const [baseUrl, says] of refusedBaseUrls) {
      const result = CairAuth.validateOptions({ ...credentials, baseUrl })
      if (Either.isRight(result)) return expect.fail(`accepted ${baseUrl}`)
      expect(result.left).toMatchObject({ _tag: "InvalidOptions", option: "baseUrl" })
      expect(result.left.message).toMatch(says)
      expect(result.left.message).toContain("Invalid Cair auth option \"baseUrl\"")
      // The error shows where, never a user name or password given in the URL.
      expect(result.left.message).not.toContain("secret")
    }
  })

  it.effect("the same check for CAIR_BASE_URL, the layer and the endpoints", () =>
    Effect.gen(function*() {
      const fromEnv = (url: string) =>
        Layer.build(CairAuth.layerConfig.pipe(Layer.provide(NodeHttpClient.layer))).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(
            new Map([["CAIR_CLIENT_ID", "c"], ["CAIR_CLIENT_SECRET", credentials.clientSecret], ["CAIR_BASE_URL", url]])
          )),
          Effect.scoped,
          Effect.exit
        )
      const config = yield* fromEnv("http://cair.example")
      expect(Exit.isFailure(config) && String(config.cause)).toMatch(/CAIR_BASE_URL.*must use https:/s)
      expect(Exit.isSuccess(yield* fromEnv("http://127.0.0.1:1"))).toBe(true)
      const layer = yield* Effect.exit(Effect.scoped(Layer.build(
        CairAuth.layer({ ...credentials, baseUrl: "http://cair.example" }).pipe(Layer.provide(NodeHttpClient.layer))
      )))
      expect(layer).toMatchObject(Exit.die({ _tag: "InvalidOptions", option: "baseUrl" }))
      const endpoint = yield* Effect.exit(
        TokenEndpoint.make({ ...credentials, baseUrl: "http://cair.example" }).pipe(
          Effect.provide(NodeHttpClient.layer)
        )
      )
      expect(endpoint).toMatchObject(Exit.die({ _tag: "InvalidOptions", option: "baseUrl" }))
    }))

  /** `NodeHttpClient` that records every request and counts the body bytes the SDK actually reads. */
  const recording = Effect.sync(() => {
    const sent: Array<HttpClientRequest.HttpClientRequest> = []
    const read = { bytes: 0 }
    const layer = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (client) =>
        client.pipe(
          // (The request as sent: after the SDK's own `mapRequest`, which `tapRequest` would not see.)
          HttpClient.transform((effect, request) => Effect.zipRight(Effect.sync(() => sent.push(request)), effect)),
          // Counts what the SDK pulls from the body stream, nothing else.
          HttpClient.transformResponse(Effect.map((response) =>
            new Proxy(response, {
              get: (target, key) =>
                key === "stream"
                  ? Stream.tap(target.stream, (chunk) => Effect.sync(() => (read.bytes += chunk.length)))
                  : Reflect.get(target, key, target)
            })
          ))
        ))
    ).pipe(Layer.provide(NodeHttpClient.layer))
    return { sent, read, layer }
  })

  it.scoped("a response body is read up to 64 KiB and no further; an error's body to its first chunk at most", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.make({ credentials })
      const http = yield* recording
      const context = yield* Layer.build(
        CairAuth.layer({ ...credentials, baseUrl: server.url, maxRetries: 0 }).pipe(Layer.provide(http.layer))
      )
      const auth = Context.get(context, CairAuth.CairAuth)
      yield* server.inject(Fault.HugeBody({ bytes: 8 * 1024 * 1024 }))
      expect(yield* Effect.flip(auth.accessToken)).toMatchObject({
        _tag: "MalformedTokenResponse",
        problems: ["the body is larger than 65536 bytes"]
      })
      // 64 KiB and the chunk that crossed it (and what the stream had buffered): far below the 8 MiB sent.
      expect(http.read.bytes).toBeGreaterThan(64 * 1024)
      expect(http.read.bytes).toBeLessThan(256 * 1024)
      yield* TestClock.adjust("1 second")
      const before = http.read.bytes
      yield* server.inject(Fault.Status({ status: 503, body: "x".repeat(4 * 1024 * 1024) }))
      expect(yield* Effect.flip(auth.accessToken)).toMatchObject({ _tag: "TokenRequestFailed", status: 503 })
      // Its first chunk, then the stream is cancelled, so that a body without end keeps no socket.
      expect(http.read.bytes - before).toBeLessThan(256 * 1024)
    }))

  it.scoped("nothing is ever put in a URL: the credentials and refresh tokens travel in the POST body", () =>
    Effect.gen(function*() {
      const server = yield* FakeCairServer.make({ credentials })
      const http = yield* recording
      const layer = (baseUrl: string) =>
        Effect.map(
          Layer.build(CairAuth.layer({ ...credentials, baseUrl }).pipe(Layer.provide(http.layer))),
          Context.get(CairAuth.CairAuth)
        )
      const auth = yield* layer(server.url)
      yield* auth.accessToken
      yield* auth.refresh
      yield* server.inject(Fault.Status({ status: 401 }), { path: "/api/refresh" })
      yield* auth.refresh // rejected: the credentials again
      // Under a base path (the fake server answers 404 there): still nothing but the path.
      expect(yield* Effect.flip((yield* layer(`${server.url}/base/`)).accessToken)).toMatchObject({ status: 404 })
      expect(http.sent.map((request) => [request.method, new URL(request.url).pathname])).toEqual([
        ["POST", "/api/token"],
        ["POST", "/api/refresh"],
        ["POST", "/api/refresh"],
        ["POST", "/api/token"],
        ["POST", "/base/api/token"]
      ])
      for (const request of http.sent) {
        const url = new URL(request.url)
        expect([url.search, url.hash, url.username, url.password, request.urlParams.length]).toEqual([
          "",
          "",
          "",
          "",
          0
        ])
        expect(request.url).not.toMatch(/S3CRET|fake-rt-|fake-at-|secret|token=/i)
      }
      // ...and the server got them there.
      const log = yield* server.requests
      expect(
        log.filter((entry) => entry.path === "/api/refresh").every((entry) =>
          entry.refreshToken?.startsWith("fake-rt-")
        )
      )
        .toBe(true)
    }))
})
