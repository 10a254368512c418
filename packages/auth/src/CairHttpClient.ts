/**
 * `CairHttpClient`: an `HttpClient` for the Cair Health API that authenticates itself with `CairAuth`.
 *
 * - Requests go under the base URL of `CairAuth` (`CairAuth.Service.baseUrl`: one base URL, resolved once):
 *   the request's URL is a path below it, or an absolute URL under it. Whatever else (a leading `//` or `\`,
 *   a control character, a `..` segment, an encoded or look-alike `/`, another origin) fails with a
 *   `RequestError` of reason `InvalidUrl` whose `cause` is the `UnsafeRequestUrl`, before any byte is sent
 *   (the rule: `TokenScope`).
 * - Every request carries `Authorization: Bearer <token>` with the current token of `CairAuth`, attached when
 *   it is sent.
 * - Redirects are never followed below this client (`FetchHttpClient` is told `redirect: "manual"`): a 3xx is
 *   the response. Add `HttpClient.followRedirects` on top to follow them: the token is attached again for
 *   each hop, only if the hop's URL passes the rule; a hop elsewhere goes without `Authorization`.
 * - A `401` answer invalidates the token the request was sent with (generation-aware: any number
 *   of requests rejected for the same token cause one new token) and the request is sent once
 *   more with a new token. A second `401` is returned as the response, not as an error.
 * - A request whose body cannot be sent twice (a `Stream` body, or a raw body holding a stream)
 *   is not retried: its `401` is returned. Its token is invalidated all the same, so the next
 *   request gets a new one.
 * - When no token can be obtained the request is not sent and fails with the `CairAuthError`:
 *   the client's error type is `HttpClientError | CairAuthError`.
 * - The token stays out of what can be printed: the responses and `HttpClientError`s of this
 *   client show `authorization: <redacted>` in their `request`, and the messages of their `cause` show no
 *   header value (fetch's `TypeError` for an invalid header prints it). (The platform redacts the header
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
import { type CairAuthError, InvalidOptions } from "./CairAuthError.js"
import { tag as CairAuthTag } from "./internal/cairAuth.js"
import * as internal from "./internal/cairHttpClient.js"
import { parseBaseUrl } from "./internal/options.js"

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
 * const options: CairHttpClient.Options = {}
 * const CairLive = CairHttpClient.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * @deprecated The client sends its requests under `CairAuth`'s base URL (set it with `CairAuth.layer({ baseUrl
   * })` or `CAIR_BASE_URL`). Given, it must name the same base URL: another one is a defect (`InvalidOptions`),
   * as the token goes nowhere else.
   */
  readonly baseUrl?: string | URL | undefined
}

/**
 * Builds the client on the app's `HttpClient` and `CairAuth`, under `CairAuth`'s base URL.
 *
 * @example
 * ```ts
 * import { CairAuth, CairHttpClient } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* CairHttpClient.make()
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
  options.baseUrl === undefined ? internal.make : Effect.zipRight(sameBaseUrl(options.baseUrl), internal.make)

const sameBaseUrl = (baseUrl: string | URL) =>
  Effect.flatMap(
    Effect.orDie(parseBaseUrl(baseUrl)),
    (given) =>
      Effect.flatMap(CairAuthTag, (auth) =>
        given === auth.baseUrl ? Effect.void : Effect.die(
          new InvalidOptions({
            option: "baseUrl",
            description: `${given} is not the base URL of CairAuth (${auth.baseUrl}), the only place its token goes; ` +
              "set the base URL on CairAuth and leave it out here"
          })
        ))
  )

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
 * The same as `layer()`: the base URL is `CairAuth`'s, which `CairAuth.layerConfig` reads from the optional
 * `CAIR_BASE_URL`.
 *
 * @deprecated Use `layer()`.
 *
 * @example
 * ```ts
 * import { CairAuth, CairHttpClient } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Layer from "effect/Layer"
 *
 * // CairAuth.layerConfig reads the optional CAIR_BASE_URL; the client takes it from CairAuth.
 * const CairLive = CairHttpClient.layerConfig.pipe(
 *   Layer.provide(CairAuth.layerConfig),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<CairHttpClient, ConfigError.ConfigError, CairAuth | HttpClient.HttpClient> =
  layer()
