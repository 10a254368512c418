/**
 * `CairAuth`: the bearer token of the Cair Health API as an Effect service.
 *
 * - One `Ref` holds the cache. A fresh token costs one `Ref` read and a reading of both clocks: it is
 *   handed out only while the wall clock and the monotonic clock both say it is within its usable life.
 * - Single flight: any number of callers on a cold or expired cache cause one request.
 * - Proactive refresh: within the refresh window a caller starts a refresh in the background
 *   and keeps getting the still-valid token; only a caller without a valid token waits.
 * - Refresh uses the latest (rotating) refresh token and falls back to the client credentials
 *   when it has expired or is rejected.
 * - A failed request is never cached for good: after a short rest (longer after repeated
 *   failures, at least any `Retry-After` up to 5 minutes) the next caller tries again.
 * - Every call settles with a token or a typed error within a bound set by the options (RELIABILITY.md).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { CairAuthError, InvalidOptions } from "./CairAuthError.js"
import * as internal from "./internal/cairAuth.js"
import {
  baseUrlConfig,
  checkExtraOptions,
  defaultBaseUrl as defaultBaseUrlInternal,
  parseBaseUrl,
  requiredConfig,
  requiredSecretConfig,
  resolveLifetimeOptions,
  resolveMetricsOptions,
  resolveOptions
} from "./internal/options.js"
import * as tokenEndpoint from "./internal/tokenEndpoint.js"
import type { TokenEndpoint, TokenEndpointOptions } from "./TokenEndpoint.js"
import type { TokenEvent } from "./TokenEvent.js"
import type { TokenSet } from "./TokenSet.js"
import * as TokenStore from "./TokenStore.js"

/**
 * A read-only snapshot of the cached token. Times are epoch milliseconds on the local wall clock as it
 * read when the token was handed out, corrected for the server's clock where its `Date` header shows a
 * difference (within a day).
 *
 * The core keeps each token's life on two clocks, the wall clock and the monotonic one, and the one that
 * leaves less life wins. The deadlines here are that life on the wall clock: `min(wall-clock deadline, wall
 * now + what the monotonic clock says remains)`. So one wall-clock read checks them: a suspend or a pause
 * (the wall clock jumps ahead) ends the token by its deadline, and after the wall clock stepped back, a
 * later answer has earlier deadlines and a reading earlier than the previous one shows the step.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import * as Clock from "effect/Clock"
 * import * as Effect from "effect/Effect"
 *
 * const secondsLeft = Effect.gen(function*() {
 *   const auth = yield* CairAuth.CairAuth
 *   const token: CairAuth.AccessToken = yield* auth.get
 *   const now = yield* Clock.currentTimeMillis
 *   return Math.floor((token.expiresAt - now) / 1_000)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly token: Redacted.Redacted<string>
  /** Counts the token sets this client obtained; names the token for `invalidateToken`. */
  readonly generation: number
  /** When the token expires. */
  readonly expiresAt: number
  /** After this the token is not handed out any more: `expiresAt` less the expiry margin. */
  readonly usableUntil: number
  /** From this on, a caller starts a refresh in the background: `expiresAt` less the refresh window. */
  readonly refreshAt: number
  readonly tokenSet: TokenSet
}

/**
 * @since 0.1.0
 * @category tags
 */
export interface CairAuth {
  readonly _: unique symbol
}

/**
 * @since 0.1.0
 * @category tags
 */
export declare namespace CairAuth {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /**
     * The base URL of the Cair API, as resolved from the options (origin and path, no trailing `/`): the
     * only place the token goes. `CairHttpClient` and the Promise adapter's `fetch` send requests under it.
     */
    readonly baseUrl: string
    /** The current access token; waits for one only when none is valid. */
    readonly accessToken: Effect.Effect<Redacted.Redacted<string>, CairAuthError>
    /** The current access token with its deadlines and generation. */
    readonly get: Effect.Effect<AccessToken, CairAuthError>
    /** The whole current token set. */
    readonly tokenSet: Effect.Effect<TokenSet, CairAuthError>
    /**
     * Obtains a new token set now (or joins the request under way) and waits for it. During the rest
     * after a failed request it fails at once with that failure: forcing does not hammer the endpoint
     * (a token set that had expired on arrival is such a failure: `ExpiredOnArrival`). During the rest after
     * rejected tokens (see `rejected`) it waits for the rest to end (at most 60 s), then requests.
     */
    readonly refresh: Effect.Effect<AccessToken, CairAuthError>
    /**
     * Throws the current access token away; the next caller gets a new one. It does not end a rest: during
     * one, callers get the last error until it ends (at most 5 minutes, see RELIABILITY.md).
     */
    readonly invalidate: Effect.Effect<void>
    /**
     * Throws the access token away only if it is still the current one: a late 401 for a
     * token that was already replaced leaves the new one alone.
     */
    readonly invalidateToken: (token: Redacted.Redacted<string> | AccessToken) => Effect.Effect<void>
    /**
     * The API answered 401 to a request sent with `token`: throws exactly that token away (a late 401 for a
     * token already replaced changes nothing) and answers whether the request may be sent again with a new
     * token. The renewals 401s cause are limited: when a second freshly issued token in a row is rejected
     * (within a minute of its arrival), the answer is `false` and no new token is requested for a rest (2 s,
     * doubling with each further one, at most 60 s; one warning names the likely causes), during which the
     * rejected token is still handed out and its 401s are the caller's to return. An API that rejects every
     * token gets 6 token requests in the first minute of calls, then one a minute. `CairHttpClient` and the
     * Promise adapter's `fetch` call it on every 401.
     */
    readonly rejected: (token: Redacted.Redacted<string> | AccessToken) => Effect.Effect<boolean>
    /** Every token acquired, fallback, failure and invalidation, from the time of subscription. */
    readonly events: Stream.Stream<TokenEvent>
  }
}

/**
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const authorizationHeader = Effect.gen(function*() {
 *   const auth = yield* CairAuth.CairAuth
 *   const token = yield* auth.accessToken
 *   return `Bearer ${Redacted.value(token)}`
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const CairAuth: Context.Tag<CairAuth, CairAuth.Service> = internal.tag

/**
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 *
 * const options: CairAuth.Options = {
 *   clientId: "my-client",
 *   clientSecret: process.env.CAIR_CLIENT_SECRET!,
 *   refreshWindowMs: 120_000,
 *   expiryMarginMs: 10_000
 * }
 * const AuthLive = CairAuth.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends TokenEndpointOptions {
  /**
   * A refresh starts in the background once less than this remains of the token's life. The default,
   * 60 000, scales down to half the lifetime of a shorter-lived token. A value given is used as given,
   * unless it is the token's whole lifetime or more (it would be refreshed the moment it arrives): then
   * half the lifetime is used, with a warning naming the option.
   */
  readonly refreshWindowMs?: number | undefined
  /**
   * A token is not handed out in its last milliseconds: a request made with it could arrive after it
   * expired. The default, 5 000, scales down to a tenth of the lifetime of a shorter-lived token. A value
   * given is used as given, unless it is the token's whole lifetime or more (it would never be served):
   * then a tenth of the lifetime is used, with a warning naming the option.
   */
  readonly expiryMarginMs?: number | undefined
}

/**
 * The base URL of the Cair Health API, used when no `baseUrl` (or `CAIR_BASE_URL`) is given.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 *
 * console.log(CairAuth.defaultBaseUrl) // https://forecaster.cairhealth.com
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const defaultBaseUrl: string = defaultBaseUrlInternal

/**
 * Checks every option for its type and its range, without building anything: the Promise adapter uses it
 * to reject bad options up front. `extra` checks options beyond these (a wrapper's own), each against a
 * schema when it is given; the schema's `description` annotation says what was expected.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import * as Either from "effect/Either"
 * import * as Schema from "effect/Schema"
 *
 * const checked = CairAuth.validateOptions({ clientId: "", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 * if (Either.isLeft(checked)) {
 *   console.error(checked.left.message) // Invalid Cair auth option "clientId": is missing or empty
 * }
 *
 * // A wrapper's own options, checked in the same pass:
 * const wrapped = CairAuth.validateOptions(
 *   { clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET!, logLevel: "verbose" },
 *   { logLevel: Schema.Literal("Debug", "Info", "Warning", "Error", "None") }
 * )
 * // Invalid Cair auth option "logLevel": must be "Debug" | "Info" | "Warning" | "Error" | "None", got "verbose"
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const validateOptions = <O extends Options>(
  options: O,
  extra?: { readonly [K in Exclude<keyof O, keyof Options>]?: Schema.Schema.AnyNoContext }
): Either.Either<O, InvalidOptions> =>
  Either.flatMap(resolveOptions(options), () =>
    Either.map(
      checkExtraOptions(options, (extra ?? {}) as Readonly<Record<string, Schema.Schema.AnyNoContext>>),
      () => options
    ))

/**
 * Builds the service on a `TokenEndpoint` and a `TokenStore`. Needs a `Scope`: background
 * refreshes run in it and stop when it closes. An invalid window or margin is a defect
 * (`InvalidOptions`).
 *
 * @example
 * ```ts
 * import { CairAuth, TokenEndpoint, TokenStore } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Layer from "effect/Layer"
 *
 * const AuthLive = Layer.scoped(CairAuth.CairAuth, CairAuth.make({ clientId: "my-client" })).pipe(
 *   Layer.provide(TokenEndpoint.layer({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })),
 *   Layer.provide(TokenStore.layerMemory),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options:
    & Pick<
      Options,
      "refreshWindowMs" | "expiryMarginMs" | "baseUrl" | "requestTimeoutMs" | "maxRetries" | "metrics" | "meterProvider"
    >
    & {
      readonly clientId: string
      /**
       * Needed by a store that seals what it shares (`@cair/auth-redis`); the memory store ignores it. With a
       * shared store, also give the `baseUrl`, `requestTimeoutMs` and `maxRetries` of the `TokenEndpoint`: they
       * name the client's slot and set the lease time.
       */
      readonly clientSecret?: Redacted.Redacted<string> | string | undefined
    }
): Effect.Effect<CairAuth.Service, never, TokenEndpoint | TokenStore.TokenStore | Scope.Scope> =>
  Effect.flatMap(
    Effect.orDie(
      Either.all([
        resolveLifetimeOptions(options),
        resolveMetricsOptions(options),
        options.baseUrl === undefined ? Either.right(undefined) : parseBaseUrl(options.baseUrl)
      ])
    ),
    ([lifetime, metrics, baseUrl]) => {
      const client = {
        clientId: options.clientId,
        baseUrl,
        clientSecret: typeof options.clientSecret === "string"
          ? Redacted.make(options.clientSecret)
          : options.clientSecret,
        requestTimeoutMs: options.requestTimeoutMs,
        maxRetries: options.maxRetries,
        ...lifetime,
        ...metrics
      }
      return internal.make(client, internal.withTokenStore(client))
    }
  )

/**
 * Builds the service as `layer` does (the token endpoints on the `HttpClient` of the environment, and its
 * `TokenStore` if it has one, else none: its own cache), as an Effect: for one service per key (see `CairAuthMap`) or per
 * Promise client, without a layer each.
 * Invalid options fail with `InvalidOptions`. Needs a `Scope`: background refreshes run in it and stop when it
 * closes.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 *
 * const token = Effect.gen(function*() {
 *   const auth = yield* CairAuth.makeFromOptions({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 *   return yield* auth.accessToken
 * }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFromOptions = (
  options: Options
): Effect.Effect<CairAuth.Service, InvalidOptions, HttpClient.HttpClient | Scope.Scope> =>
  Effect.flatMap(
    resolveOptions(options),
    (resolved) =>
      Effect.flatMap(Effect.serviceOption(TokenStore.TokenStore), (store) =>
        Effect.provideServiceEffect(
          Option.isSome(store)
            ? Effect.provideService(
              internal.make(resolved, internal.withTokenStore(resolved)),
              TokenStore.TokenStore,
              store.value
            )
            // Without a store the service's own cache is its only one: a private store held a second copy.
            : internal.make(resolved, internal.withoutStore),
          tokenEndpoint.tag,
          tokenEndpoint.makeResolved(resolved)
        ))
  )

/**
 * `CairAuth` with the token endpoints on the app's `HttpClient`, and the `TokenStore` provided to the
 * layer, or else none (the token is in this `CairAuth`'s own cache). With a shared store
 * (`RedisTokenStore.layer` from `@cair/auth-redis`) every process using the same client id and base
 * URL shares one token and one single flight. Invalid options are a defect (`InvalidOptions`) at
 * layer build.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 *
 * const AuthLive = CairAuth.layer({ clientId: "my-client", clientSecret: process.env.CAIR_SECRET! }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * const program = Effect.gen(function*() {
 *   const auth = yield* CairAuth.CairAuth
 *   const token = yield* auth.accessToken
 * })
 * Effect.runPromise(Effect.provide(program, AuthLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<CairAuth, never, HttpClient.HttpClient> =>
  Layer.scoped(CairAuth, Effect.orDie(makeFromOptions(options)))

/**
 * The options read through Effect `Config`: `CAIR_CLIENT_ID`, `CAIR_CLIENT_SECRET` (redacted)
 * and optional `CAIR_BASE_URL`. A missing or invalid one is a `ConfigError` naming it.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * // Fails with a ConfigError naming CAIR_CLIENT_ID or CAIR_CLIENT_SECRET when one is missing.
 * const program = Effect.gen(function*() {
 *   const options = yield* CairAuth.config
 *   yield* Effect.log(`Cair client ${options.clientId}`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const config: Config.Config<Options> = Config.all({
  clientId: requiredConfig("CAIR_CLIENT_ID", "the client id from the Cair admin panel"),
  clientSecret: requiredSecretConfig("CAIR_CLIENT_SECRET", "the client secret from the Cair admin panel"),
  baseUrl: baseUrlConfig
})

/**
 * `layer` with its options from `config`.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Layer from "effect/Layer"
 *
 * // CAIR_CLIENT_ID, CAIR_CLIENT_SECRET and the optional CAIR_BASE_URL from the environment.
 * const AuthLive = CairAuth.layerConfig.pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<CairAuth, ConfigError.ConfigError, HttpClient.HttpClient> = Layer.unwrapEffect(
  Effect.map(config, layer)
)
