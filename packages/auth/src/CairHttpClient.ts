/**
 * `CairHttpClient`: an `HttpClient` for the Cair Health API that authenticates itself with `CairAuth`.
 *
 * - Every request goes to the Cair base URL (the request's URL is a path below it) and carries
 *   `Authorization: Bearer <token>` with the current token of `CairAuth`.
 * - A `401` answer invalidates the token the request was sent with (generation-aware: any number
 *   of requests rejected for the same token cause one new token) and the request is sent once
 *   more with a new token. A second `401` is returned as the response, not as an error.
 * - A request whose body cannot be sent twice (a `Stream` body, or a raw body holding a stream)
 *   is not retried: its `401` is returned. Its token is invalidated all the same, so the next
 *   request gets a new one. Nor is a request sent through `HttpClient.followRedirects` (which
 *   prepares the request outside this client): it keeps the token it was prepared with.
 * - When no token can be obtained the request is not sent and fails with the `CairAuthError`:
 *   the client's error type is `HttpClientError | CairAuthError`.
 * - The token stays out of what can be printed: the responses and `HttpClientError`s of this
 *   client show `authorization: <redacted>` in their `request`. (The platform redacts the header
 *   in spans and in Effect logs, but not in `JSON.stringify` or `util.inspect` outside a fiber.)
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { CairAuth } from "./CairAuth.js"
import type { CairAuthError } from "./CairAuthError.js"
import * as internal from "./internal/cairHttpClient.js"
import { baseUrlConfig, defaultBaseUrl, parseBaseUrl } from "./internal/options.js"

/**
 * @example
 * ```ts
 * import { CairHttpClient } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const forecasts = Effect.gen(function*() {
 *   const client = yield* CairHttpClient.CairHttpClient
 *   const response = yield* client.get("/v1/forecasts")
 *   return yield* response.json
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class CairHttpClient
  extends Context.Tag("@cair/auth/CairHttpClient")<CairHttpClient, CairHttpClient.Service>()
{}

/**
 * @since 0.1.0
 * @category tags
 */
export declare namespace CairHttpClient {
  /**
   * An `HttpClient` whose error channel also holds `CairAuthError`: no token could be obtained
   * for the request (or for its retry after a 401). All `HttpClient` combinators apply to it.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Service extends HttpClient.HttpClient.With<HttpClientError.HttpClientError | CairAuthError> {}
}

/**
 * @example
 * ```ts
 * import { CairHttpClient } from "@cair/auth"
 *
 * const options: CairHttpClient.Options = { baseUrl: "http://127.0.0.1:8080" }
 * const CairLocal = CairHttpClient.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `https://forecaster.cairhealth.com`; `http:` is accepted for loopback hosts only. */
  readonly baseUrl?: string | URL | undefined
}

/**
 * Builds the client on the app's `HttpClient` and `CairAuth`. An invalid `baseUrl` is a defect
 * (`InvalidOptions`).
 *
 * @example
 * ```ts
 * import { CairAuth, CairHttpClient } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* CairHttpClient.make({ baseUrl: "https://forecaster.cairhealth.com" })
 *   const response = yield* client.get("/v1/forecasts")
 *   return response.status
 * }).pipe(Effect.provide(CairAuth.layerConfig.pipe(Layer.provideMerge(FetchHttpClient.layer))))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<CairHttpClient.Service, never, CairAuth | HttpClient.HttpClient> =>
  Effect.flatMap(Effect.orDie(parseBaseUrl(options.baseUrl ?? defaultBaseUrl)), internal.make)

/**
 * @example
 * ```ts
 * import { CairAuth, CairHttpClient } from "@cair/auth"
 * import { FetchHttpClient, HttpClientResponse } from "@effect/platform"
 * import { Effect, Layer, Schema } from "effect"
 *
 * const CairLive = CairHttpClient.layer().pipe(
 *   Layer.provide(CairAuth.layerConfig),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * const program = Effect.gen(function*() {
 *   const client = yield* CairHttpClient.CairHttpClient
 *   const response = yield* client.get("/v1/forecasts")
 *   return yield* HttpClientResponse.schemaBodyJson(Schema.Array(Schema.Unknown))(response)
 * })
 * Effect.runPromise(Effect.provide(program, CairLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CairHttpClient, never, CairAuth | HttpClient.HttpClient> =>
  Layer.effect(CairHttpClient, make(options))

/**
 * `layer` with the base URL read from the optional `CAIR_BASE_URL` through Effect `Config`, the
 * same variable (and the same checks) as `CairAuth.layerConfig`.
 *
 * @example
 * ```ts
 * import { CairAuth, CairHttpClient } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Layer from "effect/Layer"
 *
 * // Both layers read the optional CAIR_BASE_URL.
 * const CairLive = CairHttpClient.layerConfig.pipe(
 *   Layer.provide(CairAuth.layerConfig),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<CairHttpClient, ConfigError.ConfigError, CairAuth | HttpClient.HttpClient> = Layer
  .effect(CairHttpClient, Effect.flatMap(baseUrlConfig, internal.make))
