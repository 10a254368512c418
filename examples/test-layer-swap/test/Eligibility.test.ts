/**
 * The app's tests swap the real `CairAuth` for `CairAuthTest`: tokens come from a script, without
 * HTTP, and every call the app makes to `CairAuth` is recorded. The Cair API itself is a scripted
 * `HttpClient`. Everything else (`CairHttpClient`, the app's `Eligibility`) is the real thing.
 */
import type { CairAuth } from "@cair/auth"
import { CairAuthError, CairAuthTest, CairHttpClient } from "@cair/auth"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Eligibility, EligibilityUnavailable } from "../src/Eligibility.js"

/**
 * A fake Cair API answering every request with `answer(authorization header)`. `seen` lists the
 * authorization headers it received, in order.
 */
const fakeApi = (answer: (authorization: string | undefined) => Response) => {
  const seen: Array<string | undefined> = []
  const layer = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.sync(() => {
        seen.push(request.headers.authorization)
        return HttpClientResponse.fromWeb(request, answer(request.headers.authorization))
      })
    )
  )
  return { layer, seen }
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })

const eligible = () => json(200, { eligible: true, memberId: "m-1" })

/** The app on the real `CairHttpClient`, with `CairAuth` swapped for a test layer (kept in context). */
const TestLayer = (
  auth: Layer.Layer<CairAuthTest.CairAuthTest | CairAuth.CairAuth>,
  api: Layer.Layer<HttpClient.HttpClient>
) =>
  Eligibility.Default.pipe(
    Layer.provide(CairHttpClient.layer()),
    Layer.provideMerge(auth),
    Layer.provide(api)
  )

describe("Eligibility, with CairAuth swapped for CairAuthTest", () => {
  it.effect("layerFixed: the request carries the token CairAuth hands out", () => {
    const api = fakeApi(eligible)
    return Effect.gen(function*() {
      const eligibility = yield* Eligibility
      expect(yield* eligibility.check("m-1")).toBe(true)
      expect(yield* eligibility.check("m-2")).toBe(true)
      expect(api.seen).toEqual(["Bearer test-token", "Bearer test-token"])
      expect(yield* CairAuthTest.calls).toEqual([
        { method: "get", generation: 1 },
        { method: "get", generation: 1 }
      ])
    }).pipe(Effect.provide(TestLayer(CairAuthTest.layerFixed("test-token"), api.layer)))
  })

  it.effect("layerScripted: a 401 invalidates exactly the token that was sent, and the retry gets the next", () => {
    const api = fakeApi((authorization) =>
      authorization === "Bearer token-a" ? json(401, { message: "revoked" }) : eligible()
    )
    return Effect.gen(function*() {
      const eligibility = yield* Eligibility
      expect(yield* eligibility.check("m-1")).toBe(true)
      expect(api.seen).toEqual(["Bearer token-a", "Bearer token-b"])
      expect(yield* CairAuthTest.calls).toEqual([
        { method: "get", generation: 1 },
        { method: "rejected", generation: 1 },
        { method: "get", generation: 2 }
      ])
    }).pipe(Effect.provide(TestLayer(CairAuthTest.layerScripted(["token-a", "token-b"]), api.layer)))
  })

  it.effect("layerScripted: no token means no request, and the app's own error; the next call recovers", () => {
    const api = fakeApi(eligible)
    const down = new CairAuthError.TokenRequestFailed({
      endpoint: "/api/token",
      reason: "Status",
      status: 503,
      description: "Service Unavailable"
    })
    return Effect.gen(function*() {
      const eligibility = yield* Eligibility
      const error = yield* Effect.flip(eligibility.check("m-1"))
      expect(error).toEqual(new EligibilityUnavailable({ memberId: "m-1", reason: "TokenRequestFailed" }))
      expect(api.seen).toEqual([])
      expect(yield* eligibility.check("m-1")).toBe(true)
      expect(api.seen).toEqual(["Bearer token-a"])
      expect(yield* CairAuthTest.calls).toEqual([
        { method: "get", generation: undefined },
        { method: "get", generation: 1 }
      ])
    }).pipe(Effect.provide(TestLayer(CairAuthTest.layerScripted([down, "token-a"]), api.layer)))
  })

  it.effect("a second 401 is the app's error: one retry only", () => {
    const api = fakeApi(() => json(401, { message: "no access to eligibility" }))
    return Effect.gen(function*() {
      const eligibility = yield* Eligibility
      const error = yield* Effect.flip(eligibility.check("m-1"))
      expect(error).toMatchObject({ _tag: "EligibilityUnavailable", reason: "ResponseError" })
      expect(api.seen).toEqual(["Bearer token-a", "Bearer token-b"])
    }).pipe(Effect.provide(TestLayer(CairAuthTest.layerScripted(["token-a", "token-b"]), api.layer)))
  })
})
