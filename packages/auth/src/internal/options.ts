import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as CairAuth from "../CairAuth.js"
import { InvalidOptions } from "../CairAuthError.js"
import type { TokenRequestFailed } from "../CairAuthError.js"
import type * as CairAuthMetrics from "../CairAuthMetrics.js"

/** @internal */
export const defaultBaseUrl = "https://forecaster.cairhealth.com"

/** @internal */
export const defaultRequestTimeoutMs = 10_000
/** A token request attempt is never given longer than this: 10 minutes. @internal */
export const maxRequestTimeoutMs = 600_000
/** @internal */
export const defaultMaxRetries = 3
/** Retries of one cycle: more would only make a caller wait longer for the same error. @internal */
export const maxMaxRetries = 10

/** @internal */
export type Options = CairAuth.Options

/** @internal */
export interface ResolvedOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly baseUrl: string
  /** `undefined`: the default, scaled down for short-lived tokens. */
  readonly refreshWindowMs: number | undefined
  /** `undefined`: the default, scaled down for short-lived tokens. */
  readonly expiryMarginMs: number | undefined
  readonly requestTimeoutMs: number
  readonly maxRetries: number
  readonly retrySchedule: Schedule.Schedule<unknown, TokenRequestFailed> | undefined
  readonly metrics: boolean
  readonly meterProvider: CairAuthMetrics.MeterProvider | undefined
}

/**
 * A value as an error message may show it: numbers and short strings as they are, anything else by its kind.
 * Never used for the client secret.
 */
const shown = (value: unknown): string => {
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value)
  if (typeof value === "string") {
    return value.length <= 40
      ? JSON.stringify(value)
      : `a string of ${value.length} characters`
  }
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  return typeof value === "object" ? "an object" : `a ${typeof value}`
}

const invalid = (option: string, description: string) => Either.left(new InvalidOptions({ option, description }))

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"])

/** @internal */
export const isLoopback = (url: URL): boolean =>
  loopbackHosts.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)

/** @internal */
export const parseBaseUrl = (input: string | URL): Either.Either<string, InvalidOptions> => {
  const refuse = (description: string) => invalid("baseUrl", description)
  if (typeof input !== "string" && !(input instanceof URL)) {
    return refuse(`must be a string or a URL, got ${shown(input)}`)
  }
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return refuse("not an absolute URL (expected e.g. https://forecaster.cairhealth.com)")
  }
  if (url.username !== "" || url.password !== "") return refuse("must not carry a user name or password")
  if (url.search !== "" || url.hash !== "") return refuse("must not carry a query or fragment")
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url))) {
    return Either.right(url.origin + url.pathname.replace(/\/+$/, ""))
  }
  // "localhost:3000" parses as the scheme "localhost:" with the path "3000".
  if (typeof input === "string" && /^[a-z0-9.-]+:\d+(\/[^\s]*)?$/i.test(input)) {
    return refuse(
      `has no scheme ("${input}" reads as the scheme "${url.protocol}"): write "https://${input}", ` +
        `or "http://${input}" for a loopback host`
    )
  }
  if (url.protocol !== "http:") {
    return refuse(`must use https: (plain http: is allowed for loopback hosts only), got the scheme "${url.protocol}"`)
  }
  return refuse(`must use https: (plain http: is allowed for loopback hosts only), got "${url.protocol}//${url.host}"`)
}

const duration = (
  option: string,
  value: unknown,
  range: { readonly positive?: boolean; readonly max?: number } = {}
): Either.Either<number | undefined, InvalidOptions> => {
  if (value === undefined) return Either.right(undefined)
  const inRange = typeof value === "number" && Number.isFinite(value) &&
    (range.positive === true ? value > 0 : value >= 0) && (range.max === undefined || value <= range.max)
  if (inRange) return Either.right(value)
  const bounds = `${range.positive === true ? "> 0" : ">= 0"}${range.max === undefined ? "" : ` and <= ${range.max}`}`
  return invalid(option, `must be a number of milliseconds ${bounds}, got ${shown(value)}`)
}

const isMeterProvider = (u: unknown): u is CairAuthMetrics.MeterProvider =>
  typeof u === "object" && u !== null && typeof (u as { readonly getMeter?: unknown }).getMeter === "function"

/**
 * `metrics` and `meterProvider`, for `resolveOptions` and `CairAuth.make`.
 *
 * @internal
 */
export const resolveMetricsOptions = (
  options: Pick<Options, "metrics" | "meterProvider">
): Either.Either<Pick<ResolvedOptions, "metrics" | "meterProvider">, InvalidOptions> => {
  const metrics: unknown = options.metrics ?? true
  if (typeof metrics !== "boolean") return invalid("metrics", `must be true or false, got ${shown(metrics)}`)
  const meterProvider: unknown = options.meterProvider
  if (meterProvider !== undefined && !isMeterProvider(meterProvider)) {
    return invalid(
      "meterProvider",
      `must be an OpenTelemetry MeterProvider (an object with getMeter), got ${shown(meterProvider)}`
    )
  }
  return Either.right({ metrics, meterProvider })
}

/**
 * Checks the options given by a user and fills in the defaults: every option for its type and its range.
 * Never echoes the secret.
 *
 * @internal
 */
export const resolveOptions = (options: Options): Either.Either<ResolvedOptions, InvalidOptions> =>
  Either.gen(function*() {
    if (typeof options !== "object" || options === null) {
      return yield* invalid("options", `must be an object, got ${shown(options)}`)
    }
    if (typeof options.clientId !== "string" || options.clientId.trim() === "") {
      return yield* invalid(
        "clientId",
        options.clientId === undefined || options.clientId === "" ? "is missing or empty" : "must be a non-empty string"
      )
    }
    const secret: unknown = options.clientSecret
    const value: unknown = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
    if (typeof value !== "string" || value === "") {
      return yield* invalid("clientSecret", "is missing or empty (a non-empty string, or one in Redacted)")
    }
    const maxRetries: unknown = options.maxRetries ?? defaultMaxRetries
    if (
      typeof maxRetries !== "number" || !Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > maxMaxRetries
    ) {
      return yield* invalid("maxRetries", `must be an integer from 0 to ${maxMaxRetries}, got ${shown(maxRetries)}`)
    }
    const retrySchedule: unknown = options.retrySchedule
    if (retrySchedule !== undefined && !Schedule.isSchedule(retrySchedule)) {
      return yield* invalid("retrySchedule", `must be a Schedule, got ${shown(retrySchedule)}`)
    }
    const { meterProvider, metrics } = yield* resolveMetricsOptions(options)
    return {
      clientId: options.clientId,
      clientSecret: Redacted.isRedacted(secret) ? secret as Redacted.Redacted<string> : Redacted.make(value),
      baseUrl: yield* parseBaseUrl(options.baseUrl ?? defaultBaseUrl),
      refreshWindowMs: yield* duration("refreshWindowMs", options.refreshWindowMs),
      expiryMarginMs: yield* duration("expiryMarginMs", options.expiryMarginMs),
      requestTimeoutMs: (yield* duration("requestTimeoutMs", options.requestTimeoutMs, {
        positive: true,
        max: maxRequestTimeoutMs
      })) ?? defaultRequestTimeoutMs,
      maxRetries,
      retrySchedule: options.retrySchedule,
      metrics,
      meterProvider
    }
  })

/**
 * The window and margin alone, for `CairAuth.make`.
 *
 * @internal
 */
export const resolveLifetimeOptions = (
  options: Pick<Options, "refreshWindowMs" | "expiryMarginMs">
): Either.Either<Pick<ResolvedOptions, "refreshWindowMs" | "expiryMarginMs">, InvalidOptions> =>
  Either.all({
    refreshWindowMs: duration("refreshWindowMs", options.refreshWindowMs),
    expiryMarginMs: duration("expiryMarginMs", options.expiryMarginMs)
  })

/**
 * Options beyond `CairAuth.Options` (the Promise adapter's, say), each checked against its schema when given.
 * A schema's `description` annotation (or else its type) says what was expected.
 *
 * @internal
 */
export const checkExtraOptions = (
  options: object,
  checks: Readonly<Record<string, Schema.Schema.AnyNoContext>>
): Either.Either<void, InvalidOptions> => {
  for (const [option, schema] of Object.entries(checks)) {
    const value: unknown = (options as Readonly<Record<string, unknown>>)[option]
    if (value !== undefined && !Schema.is(schema)(value)) {
      return invalid(option, `must be ${String(schema)}, got ${shown(value)}`)
    }
  }
  return Either.void
}

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

/**
 * A required variable whose error names it and says what it is for (`CAIR_CLIENT_SECRET is not set
 * (the client secret from the Cair admin panel)`), not Effect's generic message, and never echoes its
 * value. Blank counts as unset.
 *
 * @internal
 */
export const requiredConfig = (name: string, description: string): Config.Config<string> =>
  Config.option(Config.string(name)).pipe(
    Config.mapOrFail((value) =>
      Option.isSome(value) && value.value.trim() !== ""
        ? Either.right(value.value)
        : Either.left(
          ConfigError.MissingData([name], `${name} is ${Option.isSome(value) ? "empty" : "not set"} (${description})`)
        )
    )
  )

/**
 * `requiredConfig`, redacted once read. Not `Config.redacted`, which also hides the error's message.
 *
 * @internal
 */
export const requiredSecretConfig = (name: string, description: string): Config.Config<Redacted.Redacted<string>> =>
  Config.map(requiredConfig(name, description), Redacted.make)
