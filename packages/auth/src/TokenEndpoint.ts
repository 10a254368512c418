/**
 * The two Cair token endpoints, `POST /api/token` and `POST /api/refresh`, on `HttpClient`: one
 * timeout per attempt, transient failures retried on a `Schedule` that honours `Retry-After`,
 * bodies decoded with `Schema` into `Redacted` tokens. No cache: that is `CairAuth`'s job.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type {
  InvalidCredentials,
  MalformedTokenResponse,
  RefreshTokenRejected,
  TokenRequestFailed
} from "./CairAuthError.js"
import type * as CairAuthMetrics from "./CairAuthMetrics.js"
import { resolveOptions } from "./internal/options.js"
import * as internal from "./internal/tokenEndpoint.js"
import type { TokenSet } from "./TokenSet.js"

/**
 * A token set with the local times of the exchange and the server's `Date` header, from which
 * `CairAuth` works out how long the token lives on the local clock.
 *
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 *
 * const roundTripMs = (issued: TokenEndpoint.IssuedTokenSet): number => issued.receivedAt - issued.sentAt
 * // Positive when the server's clock runs ahead of the local one.
 * const clockSkewMs = (issued: TokenEndpoint.IssuedTokenSet): number | undefined =>
 *   issued.serverDate === undefined ? undefined : issued.serverDate - issued.receivedAt
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface IssuedTokenSet {
  readonly tokens: TokenSet
  /** Local epoch milliseconds when the request was sent. */
  readonly sentAt: number
  /** Local epoch milliseconds when the answer's headers arrived. */
  readonly receivedAt: number
  /** The server's `Date` header in epoch milliseconds, when it sent a readable one. */
  readonly serverDate: number | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export interface TokenEndpoint {
  readonly _: unique symbol
}

/**
 * @since 0.1.0
 * @category tags
 */
export declare namespace TokenEndpoint {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /**
     * The base URL the endpoints are under, as resolved from the options (origin and path, no trailing
     * `/`): the only place the token they issue may go.
     */
    readonly baseUrl: string
    /** `POST /api/token` with the client credentials. */
    readonly requestToken: Effect.Effect<
      IssuedTokenSet,
      InvalidCredentials | TokenRequestFailed | MalformedTokenResponse
    >
    /** `POST /api/refresh` with a refresh token; a 4xx answer is `RefreshTokenRejected`. */
    readonly refresh: (
      refreshToken: Redacted.Redacted<string>
    ) => Effect.Effect<IssuedTokenSet, RefreshTokenRejected | TokenRequestFailed | MalformedTokenResponse>
  }
}

/**
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const expiresAt = Effect.gen(function*() {
 *   const endpoint = yield* TokenEndpoint.TokenEndpoint
 *   const issued = yield* endpoint.requestToken
 *   return issued.tokens.expiresAt
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const TokenEndpoint: Context.Tag<TokenEndpoint, TokenEndpoint.Service> = internal.tag

/**
 * The options of the endpoints: where, who, and how patiently.
 *
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import * as Redacted from "effect/Redacted"
 *
 * const options: TokenEndpoint.TokenEndpointOptions = {
 *   clientId: "my-client",
 *   clientSecret: Redacted.make(process.env.CAIR_CLIENT_SECRET!),
 *   requestTimeoutMs: 5_000,
 *   maxRetries: 2
 * }
 * const EndpointLive = TokenEndpoint.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenEndpointOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string> | string
  /** Default `https://forecaster.cairhealth.com`; `http:` is accepted for loopback hosts only. */
  readonly baseUrl?: string | URL | undefined
  /** Timeout of one attempt, headers and body, in milliseconds. Default 10 000; at most 600 000. */
  readonly requestTimeoutMs?: number | undefined
  /** How many times a transient failure (network, timeout, 408, 429, 5xx) is retried. Default 3; at most 10. */
  readonly maxRetries?: number | undefined
  /**
   * The delays between retries. Default: exponential from 200 ms up to 5 s, each jittered by ±20%. Any delay
   * longer than 60 s is cut to 60 s, so that the options bound how long a call can wait.
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, TokenRequestFailed> | undefined
  /** Record the `cair.auth.*` metrics (see `CairAuthMetrics`). Default `true`. */
  readonly metrics?: boolean | undefined
  /** Record the metrics into this OpenTelemetry `MeterProvider` too, e.g. `metrics.getMeterProvider()`. */
  readonly meterProvider?: CairAuthMetrics.MeterProvider | undefined
}

/**
 * The default delays between retries: exponential from 200 ms, doubling up to 5 seconds, each jittered
 * by up to 20% either way (`Schedule.jittered`, from the `Random` service): processes that failed together do not
 * retry together. `maxRetries` bounds their number and a `Retry-After` lengthens any of them.
 *
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import * as Schedule from "effect/Schedule"
 *
 * // The default delays, but no more retries once 30 seconds have passed.
 * const retrySchedule = TokenEndpoint.defaultRetrySchedule.pipe(Schedule.upTo("30 seconds"))
 * const EndpointLive = TokenEndpoint.layer({
 *   clientId: "my-client",
 *   clientSecret: process.env.CAIR_CLIENT_SECRET!,
 *   retrySchedule
 * })
 * ```
 *
 * @since 0.1.0
 * @category retry
 */
export const defaultRetrySchedule: Schedule.Schedule<unknown, TokenRequestFailed> = internal.defaultRetrySchedule

/**
 * Builds the endpoints on the `HttpClient` of the environment. Invalid options are a defect
 * (`InvalidOptions`): they are a programming error, caught at the first run.
 *
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const endpoint = yield* TokenEndpoint.make({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 *   const issued = yield* endpoint.requestToken
 *   return yield* endpoint.refresh(issued.tokens.refreshToken)
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: TokenEndpointOptions
): Effect.Effect<TokenEndpoint.Service, never, HttpClient.HttpClient> =>
  Effect.flatMap(Effect.orDie(resolveOptions(options)), internal.makeResolved)

/**
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * const EndpointLive = TokenEndpoint.layer({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * const issued = Effect.flatMap(TokenEndpoint.TokenEndpoint, (endpoint) => endpoint.requestToken).pipe(
 *   Effect.provide(EndpointLive)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: TokenEndpointOptions): Layer.Layer<TokenEndpoint, never, HttpClient.HttpClient> =>
  Layer.effect(TokenEndpoint, make(options))
