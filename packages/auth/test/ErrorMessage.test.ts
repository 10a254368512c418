import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as CairAuth from "../src/CairAuth.js"
import { InvalidCredentials, InvalidOptions, MalformedTokenResponse, TokenRequestFailed } from "../src/CairAuthError.js"
import * as ErrorMessage from "../src/ErrorMessage.js"

/** What `CairAuth.config` fails with for these variables, as one line; or the options it read. */
const readConfig = (variables: Record<string, string>) =>
  CairAuth.config.pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)))),
    Effect.mapError((error) => ({ error, line: ErrorMessage.format(error) })),
    Effect.flip
  )

const endpoint = "https://forecaster.cairhealth.com/api/token"

describe("ErrorMessage", () => {
  it.effect("a missing CAIR_* variable: its name, that it is not set, and what it is", () =>
    Effect.gen(function*() {
      const { error, line } = yield* readConfig({ CAIR_CLIENT_ID: "clinic-42" })
      expect(line).toBe("CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel)")
      // The ConfigError itself names the variable and what was wrong, not "<redacted>".
      expect(error).toMatchObject({ _op: "MissingData", path: ["CAIR_CLIENT_SECRET"] })
      expect(String(error)).toContain("CAIR_CLIENT_SECRET is not set")
      expect(String(error)).not.toContain("<redacted>")
    }))

  it.effect("an empty or blank one is told apart from an unset one", () =>
    Effect.gen(function*() {
      const { line } = yield* readConfig({ CAIR_CLIENT_ID: " ", CAIR_CLIENT_SECRET: "s3cret-value" })
      expect(line).toBe("CAIR_CLIENT_ID is empty (the client id from the Cair admin panel)")
    }))

  it.effect("several problems at once: each variable once, on one line", () =>
    Effect.gen(function*() {
      const { line } = yield* readConfig({ CAIR_BASE_URL: "not-a-url" })
      expect(line.split("; ").sort()).toEqual([
        "CAIR_BASE_URL is invalid: not an absolute URL (expected e.g. https://forecaster.cairhealth.com)",
        "CAIR_CLIENT_ID is not set (the client id from the Cair admin panel)",
        "CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel)"
      ])
      expect(line).not.toContain("\n")
    }))

  it.effect("the secret's value never appears, even when the base URL is what is wrong", () =>
    Effect.gen(function*() {
      const { line } = yield* readConfig({
        CAIR_CLIENT_ID: "clinic-42",
        CAIR_CLIENT_SECRET: "s3cret-value",
        CAIR_BASE_URL: "http://cair.example.com"
      })
      expect(line).toMatch(/^CAIR_BASE_URL is invalid: must use https:/)
      expect(line).not.toContain("s3cret-value")
    }))

  it.effect("the secret read through config is Redacted", () =>
    Effect.gen(function*() {
      const options = yield* CairAuth.config.pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["CAIR_CLIENT_ID", "clinic-42"], ["CAIR_CLIENT_SECRET", "s3cret-value"]]))
        )
      )
      expect(Redacted.isRedacted(options.clientSecret)).toBe(true)
      expect(String(options.clientSecret)).not.toContain("s3cret-value")
    }))

  it.effect("layerConfig fails with the same ConfigError", () =>
    Effect.gen(function*() {
      const exit = yield* Layer.build(CairAuth.layerConfig).pipe(
        Effect.provide(Layer.succeed(HttpClient.HttpClient, HttpClient.make(() => Effect.die("no request")))),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CAIR_CLIENT_ID", "clinic-42"]]))),
        Effect.scoped,
        Effect.exit
      )
      expect(Exit.isFailure(exit) && ErrorMessage.formatCause(exit.cause)).toBe(
        "CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel)"
      )
    }))

  it("an app's own variable gets a plain line too, and a redacted message does not leak into it", () => {
    expect(ErrorMessage.format(ConfigError.MissingData(["PORT"], "Expected PORT to exist in the process context")))
      .toBe("PORT is not set")
    expect(ErrorMessage.format(ConfigError.InvalidData(["PORT"], "Expected an integer"))).toBe(
      "PORT is invalid: Expected an integer"
    )
    expect(ErrorMessage.format(ConfigError.InvalidData(["API_KEY"], "<redacted>"))).toBe("API_KEY is invalid")
  })

  it("a token failure: its tag, its message and what to check", () => {
    const failed = (fields: Partial<ConstructorParameters<typeof TokenRequestFailed>[0]>) =>
      ErrorMessage.format(
        new TokenRequestFailed({ endpoint, reason: "Status", description: "Service Unavailable", ...fields })
      )
    expect(failed({ reason: "Transport", description: "connect ECONNREFUSED 127.0.0.1:9" })).toBe(
      `TokenRequestFailed: Token request to ${endpoint} failed: Transport: connect ECONNREFUSED 127.0.0.1:9 ` +
        "(is the base URL (CAIR_BASE_URL) right, and can this machine reach it?)"
    )
    expect(failed({ reason: "Timeout", description: "no complete answer within 10000 ms" })).toMatch(
      /\(the server did not answer in time: check the network, or raise requestTimeoutMs\)$/
    )
    expect(failed({ status: 503 })).toMatch(/\(the Cair API is unavailable and the retries ran out: try again later\)$/)
    expect(failed({ status: 404, description: "Not Found" })).toMatch(
      /\(is the base URL \(CAIR_BASE_URL\) the Cair API\?\)$/
    )
    expect(
      ErrorMessage.format(new MalformedTokenResponse({ endpoint, status: 200, problems: ["accessToken: missing"] }))
    )
      .toMatch(/^MalformedTokenResponse: .*accessToken: missing \(is the base URL/)
  })

  it("messages that already say what to do get no hint", () => {
    expect(ErrorMessage.format(new InvalidCredentials({ clientId: "clinic-42", status: 401 }))).toBe(
      "InvalidCredentials: The Cair token endpoint rejected the credentials of client \"clinic-42\" (HTTP 401). " +
        "Check CAIR_CLIENT_ID and CAIR_CLIENT_SECRET against the admin panel."
    )
    expect(ErrorMessage.format(new InvalidOptions({ option: "maxRetries", description: "must be an integer >= 0" })))
      .toBe("InvalidOptions: Invalid Cair auth option \"maxRetries\": must be an integer >= 0")
  })

  it("the Promise adapter's errors (an Error with a _tag), and anything else, on one line", () => {
    const closed = Object.assign(new Error("The Cair auth client was closed"), { _tag: "ClientClosed" })
    expect(ErrorMessage.format(closed)).toBe(
      "ClientClosed: The Cair auth client was closed (a call was made after close(): create a new client)"
    )
    expect(ErrorMessage.format(new Error("first line\n    second line"))).toBe("first line second line")
    expect(ErrorMessage.format("plain")).toBe("plain")
    expect(ErrorMessage.format(undefined)).toBe("undefined")
  })

  it("formatCause: the failure, else the defect (an InvalidOptions thrown by a layer), else interrupted", () => {
    const invalid = new InvalidOptions({ option: "baseUrl", description: "not an absolute URL" })
    expect(ErrorMessage.formatCause(Cause.fail(invalid))).toBe(ErrorMessage.format(invalid))
    expect(ErrorMessage.formatCause(Cause.sequential(Cause.die(new Error("boom")), Cause.fail(invalid)))).toBe(
      ErrorMessage.format(invalid)
    )
    expect(ErrorMessage.formatCause(Cause.die(invalid))).toBe(ErrorMessage.format(invalid))
    expect(ErrorMessage.formatCause(Cause.interrupt(FiberId.none))).toBe("interrupted")
  })
})
