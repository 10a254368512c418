/**
 * Options are honoured or refused: every one checked for its type and its range, with a message that names it
 * (never the secret); an explicit refresh window and expiry margin used as given.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as CairAuth from "../src/CairAuth.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenStore from "../src/TokenStore.js"
import { captureLogs, credentials, scriptedHttp, secrets, tokenResponse } from "./fixtures.js"

const refusal = (options: Record<string, unknown>, extra?: Record<string, Schema.Schema.AnyNoContext>) => {
  const result = CairAuth.validateOptions({ ...credentials, ...options } as CairAuth.Options, extra)
  return Either.isLeft(result) ? result.left : undefined
}

describe("options: checked for type and range", () => {
  it("refuses every option of the wrong type or out of range, naming it and what it must be", () => {
    const cases: ReadonlyArray<readonly [Record<string, unknown>, string, string]> = [
      [{ refreshWindowMs: "60s" }, "refreshWindowMs", "must be a number of milliseconds >= 0, got \"60s\""],
      [{ expiryMarginMs: -1 }, "expiryMarginMs", "got -1"],
      [{ expiryMarginMs: Infinity }, "expiryMarginMs", "got Infinity"],
      [{ requestTimeoutMs: 0 }, "requestTimeoutMs", "> 0 and <= 600000, got 0"],
      [{ requestTimeoutMs: 1e9 }, "requestTimeoutMs", "got 1000000000"],
      [{ requestTimeoutMs: null }, "requestTimeoutMs", "got null"],
      [{ maxRetries: 11 }, "maxRetries", "must be an integer from 0 to 10, got 11"],
      [{ maxRetries: 1e9 }, "maxRetries", "got 1000000000"],
      [{ maxRetries: 2.5 }, "maxRetries", "got 2.5"],
      [{ maxRetries: "3" }, "maxRetries", "got \"3\""],
      [{ retrySchedule: "exponential" }, "retrySchedule", "must be a Schedule, got \"exponential\""],
      [{ clientId: 42 }, "clientId", "must be a non-empty string"],
      [{ clientId: "  " }, "clientId", "must be a non-empty string"],
      [{ clientSecret: 42 }, "clientSecret", "is missing or empty"],
      [{ baseUrl: 8080 }, "baseUrl", "must be a string or a URL, got 8080"],
      [{ baseUrl: "ftp://cair.test" }, "baseUrl", "got the scheme \"ftp:\""],
      [{ baseUrl: "http://cair.example" }, "baseUrl", "got \"http://cair.example\""]
    ]
    for (const [options, option, text] of cases) {
      const error = refusal(options)
      expect(error?._tag, JSON.stringify(options)).toBe("InvalidOptions")
      expect(error?.option).toBe(option)
      expect(error?.message).toContain(text)
    }
    expect(refusal({ maxRetries: 10 })).toBeUndefined()
    expect(refusal({ requestTimeoutMs: 600_000, refreshWindowMs: 0, expiryMarginMs: 0 })).toBeUndefined()
  })

  it("reports a base URL without a scheme as such, not as the scheme it parses to", () => {
    const error = refusal({ baseUrl: "localhost:3000" })
    expect(error?.message).toContain("has no scheme")
    expect(error?.message).toContain("\"https://localhost:3000\"")
    expect(error?.message).toContain("\"http://localhost:3000\" for a loopback host")
    expect(error?.message).not.toContain("localhost://")
    expect(Either.isRight(CairAuth.validateOptions({ ...credentials, baseUrl: "http://localhost:3000" }))).toBe(true)
  })

  it("refuses options that are not an object, and never shows the secret", () => {
    expect(Either.getLeft(CairAuth.validateOptions(null as unknown as CairAuth.Options))).toMatchObject({
      value: { option: "options" }
    })
    const error = refusal({ clientSecret: { secret: secrets.clientSecret } })
    expect(error?.option).toBe("clientSecret")
    expect(JSON.stringify(error) + String(error)).not.toContain(secrets.clientSecret)
  })

  it("checks a wrapper's own options against schemas in the same pass", () => {
    const extra = {
      logLevel: Schema.Literal("Debug", "Info", "Warning", "Error", "None"),
      fetch: Schema.declare((u): u is typeof fetch => typeof u === "function", { description: "a function" })
    }
    expect(refusal({ logLevel: "verbose" }, extra)?.message).toBe(
      "Invalid Cair auth option \"logLevel\": must be \"Debug\" | \"Info\" | \"Warning\" | \"Error\" | \"None\", " +
        "got \"verbose\""
    )
    expect(refusal({ fetch: "nope" }, extra)?.message).toBe(
      "Invalid Cair auth option \"fetch\": must be a function, got \"nope\""
    )
    expect(refusal({ logLevel: "Info", fetch: globalThis.fetch }, extra)).toBeUndefined()
    // The core's own options come first.
    expect(refusal({ maxRetries: -1, logLevel: "verbose" }, extra)?.option).toBe("maxRetries")
  })

  it("CairAuth.make refuses a window or margin out of range as a defect", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(
        CairAuth.make({ clientId: credentials.clientId, refreshWindowMs: -5 }).pipe(
          Effect.provide(TokenStore.layerMemory),
          Effect.provideService(TokenEndpoint.TokenEndpoint, TokenEndpoint.TokenEndpoint.of({} as never))
        )
      ))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("refreshWindowMs")
    }).pipe(Effect.runPromise))
})

/** A 3-second token at each request, answered on the `TestClock`. */
const shortTokens = (options: Partial<CairAuth.Options>) =>
  Effect.gen(function*() {
    const http = yield* scriptedHttp((request, index) =>
      Effect.succeed(tokenResponse({ n: index, now: request.at, ttlMs: 3_000 }))
    )
    const context = yield* Layer.build(
      CairAuth.layer({ ...credentials, baseUrl: "https://cair.test", ...options }).pipe(Layer.provide(http.layer))
    )
    return { auth: Context.get(context, CairAuth.CairAuth), http }
  })

describe("options: an explicit refresh window and expiry margin are used as given", () => {
  it.scoped("the defaults scale down to a short token: a tenth for the margin, half for the window", () =>
    Effect.gen(function*() {
      const { auth } = yield* shortTokens({})
      expect(yield* auth.get).toMatchObject({ expiresAt: 3_000, usableUntil: 2_700, refreshAt: 1_500 })
    }))

  it.scoped("refreshWindowMs 2000 on a 3-second token: the refresh starts 1 s after issue", () =>
    Effect.gen(function*() {
      const { auth, http } = yield* shortTokens({ refreshWindowMs: 2_000 })
      expect(yield* auth.get).toMatchObject({ usableUntil: 2_700, refreshAt: 1_000 })
      yield* TestClock.adjust(999)
      yield* auth.get
      expect(yield* http.count()).toBe(1)
      yield* TestClock.adjust(1)
      expect((yield* auth.get).generation).toBe(1)
      yield* http.awaitCount(2)
    }))

  it.scoped("expiryMarginMs 1000 on a 3-second token is not cut to a tenth", () =>
    Effect.gen(function*() {
      const { auth } = yield* shortTokens({ expiryMarginMs: 1_000 })
      expect(yield* auth.get).toMatchObject({ usableUntil: 2_000, refreshAt: 1_500 })
    }))

  it.scoped("a window or margin that leaves no life is clamped for that token, with a warning naming it", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const { auth } = yield* shortTokens({ expiryMarginMs: 3_000, refreshWindowMs: 10_000 }).pipe(
        Effect.provide(logs.layer)
      )
      expect(yield* auth.get.pipe(Effect.provide(logs.layer))).toMatchObject({ usableUntil: 2_700, refreshAt: 1_500 })
      const warnings = logs.lines.filter((line) => line.startsWith("WARN"))
      expect(warnings.some((line) => line.includes("expiryMarginMs 3000 ms leaves no life") && line.includes("300 ms")))
        .toBe(true)
      expect(warnings.some((line) => line.includes("refreshWindowMs 10000 ms") && line.includes("1500 ms"))).toBe(true)
    }))
})
