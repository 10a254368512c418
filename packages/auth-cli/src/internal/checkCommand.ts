import type * as CairAuthError from "@cair/auth/CairAuthError"
import * as TokenEndpoint from "@cair/auth/TokenEndpoint"
import * as Command from "@effect/cli/Command"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { humanDuration } from "./duration.js"
import { SharedStoreFailed } from "./errors.js"
import { reporting } from "./report.js"
import { CliEnvironment, connectionFlags, resolve } from "./settings.js"
import * as SharedStore from "./sharedStore.js"

/** A clock further off than this is worth fixing, though `CairAuth` corrects for it. */
export const skewWarningMs = 30_000

type Status = "ok" | "FAIL" | "warn" | "--"

const line = (label: string, status: Status, text: string): Effect.Effect<void> =>
  Console.log(`  ${label.padEnd(16)}${status.padEnd(6)}${text}`)

/**
 * How far the server's clock runs ahead of this one (negative: behind), from its `Date` header. The header has
 * whole seconds and is truncated, so the server's time was on average half a second later than it says; the
 * request is taken to have been answered halfway through the round trip.
 */
export const clockSkewMs = (issued: TokenEndpoint.IssuedTokenSet): number | undefined =>
  issued.serverDate === undefined
    ? undefined
    : issued.serverDate + 500 - (issued.sentAt + issued.receivedAt) / 2

/** How the skew reads in the report, and whether it is worth a warning. */
export const describeSkew = (skewMs: number | undefined): readonly [Status, string] => {
  if (skewMs === undefined) return ["--", "unknown (the server sent no Date header)"]
  const seconds = `${skewMs >= 0 ? "+" : "-"}${(Math.abs(skewMs) / 1_000).toFixed(1)} s`
  const direction = Math.abs(skewMs) < 1_000 ? "" : skewMs > 0 ? ", the server is ahead" : ", the server is behind"
  const text = `${seconds}${direction} (from the server's Date header, which has whole seconds)`
  return Math.abs(skewMs) > skewWarningMs
    ? ["warn", `${text}: set this machine's clock (NTP); cair-auth corrects for it, other software may not`]
    : ["ok", text]
}

const endpointFailure = (
  error: CairAuthError.CairAuthError,
  elapsedMs: number
): readonly [endpoint: string, credentials: readonly [Status, string] | undefined] => {
  const after = humanDuration(elapsedMs)
  switch (error._tag) {
    case "InvalidCredentials":
      return [`HTTP ${error.status} in ${after}`, ["FAIL", `rejected (HTTP ${error.status})`]]
    case "MalformedTokenResponse":
      return [`HTTP ${error.status} in ${after}, but not a token set: ${error.problems.join("; ")}`, undefined]
    case "TokenRequestFailed":
      switch (error.reason) {
        case "Transport":
          return [`unreachable after ${after}: ${error.description}`, undefined]
        case "Timeout":
          return [`no answer within ${after}`, undefined]
        case "ExpiredOnArrival":
          return [`a token set in ${after}, but expired on arrival: ${error.description}`, undefined]
        case "Closed":
          return [`not asked: ${error.description}`, undefined]
        case "Status":
        case "Redirected":
          return [`HTTP ${error.status ?? "?"} in ${after}: ${error.description}`, undefined]
      }
  }
}

/**
 * `cair-auth check`: the configuration, one token request (without retries, so that the report says what one
 * request saw), the credentials, the token's lifetime, the clock skew and the shared store. Prints a report on
 * stdout and, when a check failed, the error on stderr; the exit code says which check failed.
 */
export const checkCommand = Command.make(
  "check",
  { connection: connectionFlags },
  ({ connection }) =>
    reporting(
      Effect.gen(function*() {
        const environment = yield* CliEnvironment
        const settings = yield* resolve(connection, environment)
        // The whole configuration is checked before the report starts.
        yield* SharedStore.options(environment)
        yield* Console.log("cair-auth check")
        yield* line("base URL", "ok", settings.baseUrl)
        yield* line("client id", "ok", settings.clientId)
        yield* line("client secret", "ok", `from ${settings.secretSource}`)

        const endpoint = yield* TokenEndpoint.make({ ...settings.options, maxRetries: 0 })
        const startedAt = yield* Clock.currentTimeMillis
        const result = yield* Effect.either(endpoint.requestToken)
        const elapsedMs = (yield* Clock.currentTimeMillis) - startedAt
        const store = yield* SharedStore.status(environment, {
          clientId: settings.clientId,
          baseUrl: settings.baseUrl,
          clientSecret: settings.options.clientSecret
        })
        const storeLine = line(
          "shared store",
          store._tag === "Answered" ? "ok" : store._tag === "Failed" ? "FAIL" : "--",
          store.description
        )

        if (Either.isLeft(result)) {
          const [endpointText, credentials] = endpointFailure(result.left, elapsedMs)
          yield* line("token endpoint", credentials === undefined ? "FAIL" : "ok", endpointText)
          yield* line("credentials", ...(credentials ?? ["--", "not checked"] as const))
          yield* storeLine
          return yield* result.left
        }
        const issued = result.right
        const now = issued.serverDate ?? issued.receivedAt
        const { expiresAt, refreshTokenExpiresAt } = issued.tokens
        yield* line("token endpoint", "ok", `HTTP 200 in ${humanDuration(issued.receivedAt - issued.sentAt)}`)
        yield* line("credentials", "ok", "accepted")
        yield* line(
          "access token",
          "ok",
          `valid for ${humanDuration(expiresAt.getTime() - now)}, until ${expiresAt.toISOString()}`
        )
        yield* line(
          "refresh token",
          "ok",
          `valid for ${
            humanDuration(refreshTokenExpiresAt.getTime() - now)
          }, until ${refreshTokenExpiresAt.toISOString()}`
        )
        yield* line("clock skew", ...describeSkew(clockSkewMs(issued)))
        yield* storeLine
        if (store._tag === "Failed") return yield* new SharedStoreFailed({ description: store.description })
      }).pipe(Effect.provide(NodeHttpClient.layer))
    )
).pipe(
  Command.withDescription(
    "Check the configuration, the token endpoint, the credentials, the clock skew and the shared store."
  )
)
