import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { inspect } from "node:util"
import * as CairAuth from "../src/CairAuth.js"
import { InvalidCredentials, TokenRequestFailed } from "../src/CairAuthError.js"
import * as CairAuthTest from "../src/CairAuthTest.js"
import * as CairHttpClient from "../src/CairHttpClient.js"

const value = Redacted.value
const down = new TokenRequestFailed({ endpoint: "/api/token", reason: "Status", status: 503, description: "down" })

describe("CairAuthTest", () => {
  it.scoped("layerFixed hands out one Redacted token, through every accessor", () =>
    Effect.gen(function*() {
      const auth = yield* CairAuth.CairAuth
      const token = yield* auth.get
      expect(Redacted.isRedacted(token.token)).toBe(true)
      expect(value(token.token)).toBe("fixed-token")
      expect(token.generation).toBe(1)
      expect(value(yield* auth.accessToken)).toBe("fixed-token")
      expect(value((yield* auth.tokenSet).accessToken)).toBe("fixed-token")
      expect(token.expiresAt).toBe(3_600_000) // an hour after it was handed out, by the TestClock
      expect(inspect(token, { depth: 10 })).not.toContain("fixed-token")
      expect(JSON.stringify(token)).not.toContain("fixed-token")
      // After an invalidation the same value comes back as a new generation.
      yield* auth.invalidate
      expect(yield* auth.get).toMatchObject({ generation: 2 })
      expect(value(yield* auth.accessToken)).toBe("fixed-token")
      expect(yield* CairAuthTest.calls).toEqual([
        { method: "get", generation: 1 },
        { method: "accessToken", generation: 1 },
        { method: "tokenSet", generation: 1 },
        { method: "invalidate", generation: 1 },
        { method: "get", generation: 2 },
        { method: "accessToken", generation: 2 }
      ])
    }).pipe(Effect.provide(CairAuthTest.layerFixed("fixed-token"))))

  it.scoped("layerScripted takes a step only when a token is needed; failures are not kept; the last repeats", () =>
    Effect.gen(function*() {
      const auth = yield* CairAuth.CairAuth
      expect(yield* Effect.flip(auth.accessToken)).toBe(down)
      expect(value(yield* auth.accessToken)).toBe("token-a")
      expect(value(yield* auth.accessToken)).toBe("token-a")
      yield* auth.invalidate
      expect(value(yield* auth.accessToken)).toBe("token-b")
      expect(value((yield* auth.refresh).token)).toBe("token-b")
      expect(yield* auth.get).toMatchObject({ generation: 3 })
      expect((yield* CairAuthTest.calls).map((call) => [call.method, call.generation])).toEqual([
        ["accessToken", undefined],
        ["accessToken", 1],
        ["accessToken", 1],
        ["invalidate", 1],
        ["accessToken", 2],
        ["refresh", 3],
        ["get", 3]
      ])
    }).pipe(Effect.provide(CairAuthTest.layerScripted([down, "token-a", "token-b"]))))

  it.scoped("a failed refresh leaves the current token; a failure as the last step fails for good", () =>
    Effect.gen(function*() {
      const rejected = new InvalidCredentials({ clientId: "clinic-42", status: 401 })
      const { auth } = yield* CairAuthTest.make([Redacted.make("token-a"), rejected])
      expect(value(yield* auth.accessToken)).toBe("token-a")
      expect(yield* Effect.flip(auth.refresh)).toBe(rejected)
      expect(value(yield* auth.accessToken)).toBe("token-a")
      yield* auth.invalidate
      expect(yield* Effect.flip(auth.get)).toBe(rejected)
      expect(yield* Effect.flip(auth.tokenSet)).toBe(rejected)
    }))

  it.scoped("invalidateToken is generation-aware, for an AccessToken and for a bare token", () =>
    Effect.gen(function*() {
      const { auth, calls } = yield* CairAuthTest.make(["token-a", "token-b", "token-c"])
      const first = yield* auth.get
      yield* auth.invalidateToken(first)
      const second = yield* auth.get
      expect(value(second.token)).toBe("token-b")
      // A late invalidation of the replaced token changes nothing.
      yield* auth.invalidateToken(first)
      yield* auth.invalidateToken(first.token)
      expect(yield* auth.get).toBe(second)
      yield* auth.invalidateToken(Redacted.make("token-b"))
      expect(value(yield* auth.accessToken)).toBe("token-c")
      yield* auth.invalidateToken(Redacted.make("never-handed-out"))
      expect((yield* calls).filter((call) => call.method === "invalidateToken")).toEqual([
        { method: "invalidateToken", generation: 1 },
        { method: "invalidateToken", generation: 1 },
        { method: "invalidateToken", generation: 1 },
        { method: "invalidateToken", generation: 2 },
        { method: "invalidateToken", generation: undefined }
      ])
    }))

  it.scoped("publishes Acquired, Failed and Invalidated events", () =>
    Effect.gen(function*() {
      const { auth } = yield* CairAuthTest.make([down, "token-a"])
      const events = yield* Effect.fork(Stream.runCollect(Stream.take(auth.events, 4)))
      yield* Effect.repeatN(Effect.yieldNow(), 9) // lets the subscriber start
      yield* Effect.ignore(auth.get)
      yield* auth.get
      yield* auth.invalidate
      yield* auth.get
      expect(Chunk.toReadonlyArray(yield* Fiber.join(events))).toMatchObject([
        { _tag: "Failed", error: down, background: false },
        { _tag: "Acquired", source: "credentials", generation: 1 },
        { _tag: "Invalidated", generation: 1 },
        { _tag: "Acquired", source: "refresh", generation: 2 }
      ])
    }))

  it.scoped("many concurrent callers share the current token", () =>
    Effect.gen(function*() {
      const { auth, calls } = yield* CairAuthTest.make(["token-a", "token-b"])
      const tokens = yield* Effect.all(Array.from({ length: 100 }, () => auth.get), { concurrency: "unbounded" })
      expect(new Set(tokens.map((token) => token.generation))).toEqual(new Set([1]))
      expect((yield* calls).length).toBe(100)
    }))

  it.effect("rejects an empty token as a defect", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(CairAuthTest.layerFixed("")).pipe(Effect.scoped))
      expect(Exit.isFailure(exit) && Exit.causeOption(exit)).toMatchObject({ value: { _tag: "Die" } })
    }))
})

// The README example: an app service that needs `CairAuth` (here through `CairHttpClient`), tested with
// `CairAuthTest` in place of the real service and a fake `HttpClient`: no token endpoint, no network.
describe("Example: testing an app service with CairAuthTest", () => {
  // --- app code ---
  class Forecast extends Schema.Class<Forecast>("Forecast")({ site: Schema.String, admissions: Schema.Number }) {}

  class Forecasts extends Effect.Service<Forecasts>()("app/Forecasts", {
    effect: Effect.gen(function*() {
      const client = yield* CairHttpClient.CairHttpClient
      return {
        forSite: (site: string) =>
          client.get(`/v1/forecasts/${site}`).pipe(
            Effect.flatMap(HttpClientResponse.filterStatusOk),
            Effect.flatMap(HttpClientResponse.schemaBodyJson(Forecast))
          )
      }
    })
  }) {}

  // --- test code ---
  /** A fake Cair API: answers 200 to "Bearer good-token", 401 to anything else. */
  const FakeApi = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) =>
      Effect.succeed(HttpClientResponse.fromWeb(
        request,
        request.headers.authorization === "Bearer good-token"
          ? Response.json({ site: url.pathname.split("/").at(-1), admissions: 12 })
          : new Response(null, { status: 401 })
      ))
    )
  )

  const ForecastsTest = (auth: Layer.Layer<CairAuth.CairAuth | CairAuthTest.CairAuthTest>) =>
    Forecasts.Default.pipe(
      Layer.provide(CairHttpClient.layer()),
      Layer.provideMerge(auth),
      Layer.provide(FakeApi)
    )

  it.scoped("with a fixed token", () =>
    Effect.gen(function*() {
      const forecasts = yield* Forecasts
      expect(yield* forecasts.forSite("north")).toEqual(new Forecast({ site: "north", admissions: 12 }))
    }).pipe(Effect.provide(ForecastsTest(CairAuthTest.layerFixed("good-token")))))

  it.scoped("with a revoked token: the client invalidates it and retries with the next one", () =>
    Effect.gen(function*() {
      const forecasts = yield* Forecasts
      expect((yield* forecasts.forSite("north")).admissions).toBe(12)
      expect((yield* CairAuthTest.calls).map((call) => call.method)).toEqual(["get", "rejected", "get"])
    }).pipe(Effect.provide(ForecastsTest(CairAuthTest.layerScripted(["revoked-token", "good-token"])))))

  it.scoped("when no token can be obtained", () =>
    Effect.gen(function*() {
      const forecasts = yield* Forecasts
      const error = yield* Effect.flip(forecasts.forSite("north"))
      expect(error._tag).toBe("TokenRequestFailed")
    }).pipe(Effect.provide(ForecastsTest(CairAuthTest.layerScripted([down])))))
})
