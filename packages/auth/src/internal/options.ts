import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as CairAuth from "../CairAuth.js"
import { InvalidOptions } from "../CairAuthError.js"
import type { TokenRequestFailed } from "../CairAuthError.js"

/** @internal */
export const defaultBaseUrl = "https://forecaster.cairhealth.com"

/** @internal */
export type Options = CairAuth.Options

/** @internal */
export interface ResolvedOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly baseUrl: string
  readonly refreshWindowMs: number
  readonly expiryMarginMs: number
  readonly requestTimeoutMs: number
  readonly maxRetries: number
  readonly retrySchedule: Schedule.Schedule<unknown, TokenRequestFailed> | undefined
}

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"])

/** @internal */
export const isLoopback = (url: URL): boolean =>
  loopbackHosts.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)

/** @internal */
export const parseBaseUrl = (input: string | URL): Either.Either<string, InvalidOptions> => {
  const invalid = (description: string) => Either.left(new InvalidOptions({ option: "baseUrl", description }))
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return invalid("not an absolute URL (expected e.g. https://forecaster.cairhealth.com)")
  }
  if (url.username !== "" || url.password !== "") return invalid("must not carry a user name or password")
  if (url.search !== "" || url.hash !== "") return invalid("must not carry a query or fragment")
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url))) {
    return Either.right(url.origin + url.pathname.replace(/\/+$/, ""))
  }
  return invalid(`must use https: (plain http: is allowed for loopback hosts only), got "${url.protocol}//${url.host}"`)
}

const duration = (option: string, value: number | undefined, fallback: number, positive = false) => {
  if (value === undefined) return Either.right(fallback)
  return typeof value === "number" && Number.isFinite(value) && (positive ? value > 0 : value >= 0)
    ? Either.right(value)
    : Either.left(
      new InvalidOptions({ option, description: `must be a finite number ${positive ? ">" : ">="} 0, got ${value}` })
    )
}

/**
 * Checks the options given by a user and fills in the defaults. Never echoes the secret.
 *
 * @internal
 */
export const resolveOptions = (options: Options): Either.Either<ResolvedOptions, InvalidOptions> =>
  Either.gen(function*() {
    if (typeof options.clientId !== "string" || options.clientId.trim() === "") {
      return yield* Either.left(new InvalidOptions({ option: "clientId", description: "is missing or empty" }))
    }
    const secret = options.clientSecret
    const clientSecret = Redacted.isRedacted(secret) ? secret : Redacted.make(secret)
    const value: unknown = Redacted.value(clientSecret)
    if (typeof value !== "string" || value === "") {
      return yield* Either.left(new InvalidOptions({ option: "clientSecret", description: "is missing or empty" }))
    }
    const maxRetries = options.maxRetries ?? 3
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      return yield* Either.left(
        new InvalidOptions({ option: "maxRetries", description: `must be an integer >= 0, got ${maxRetries}` })
      )
    }
    return {
      clientId: options.clientId,
      clientSecret,
      baseUrl: yield* parseBaseUrl(options.baseUrl ?? defaultBaseUrl),
      refreshWindowMs: yield* duration("refreshWindowMs", options.refreshWindowMs, 60_000),
      expiryMarginMs: yield* duration("expiryMarginMs", options.expiryMarginMs, 5_000),
      requestTimeoutMs: yield* duration("requestTimeoutMs", options.requestTimeoutMs, 10_000, true),
      maxRetries,
      retrySchedule: options.retrySchedule
    }
  })

/**
 * The optional `CAIR_BASE_URL`, checked like the `baseUrl` option: an invalid one is a
 * `ConfigError` that names the variable.
 *
 * @internal
 */
export const baseUrlConfig: Config.Config<string> = Config.string("CAIR_BASE_URL").pipe(
  Config.mapOrFail((url) =>
    Either.mapLeft(parseBaseUrl(url), (error) => ConfigError.InvalidData([], error.description))
  ),
  Config.withDefault(defaultBaseUrl)
)
