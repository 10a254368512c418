/**
 * A `TokenStore` on Redis: one shared, encrypted token set per client for a whole fleet of
 * processes, a lease for the distributed single flight (`SET NX PX`, released by
 * compare-and-delete), compare-and-set writes and invalidations, and pub/sub notifications with
 * polling as the fallback. Built on the `redis` package (node-redis).
 *
 * - **Sealed.** Redis never holds a plaintext token or secret: each entry is sealed with AES-256-GCM
 *   under a key derived from the client secret (HKDF-SHA-256), bound to its key and version. Keys
 *   name the client by an HMAC of its id and base URL, never by its id.
 * - **Never a single point of failure.** Every command settles within `commandTimeoutMs`. While
 *   Redis is down, frozen or unreachable, commands fail at once with a `TokenStoreError` (one
 *   warning per outage) and each process works on its own; it rejoins when Redis answers again.
 *
 * The key layout, what is stored and the TTLs: see the package README.
 *
 * @since 0.1.0
 */
import type * as TokenStore from "@cair/auth/TokenStore"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/redisTokenStore.js"

/**
 * @example
 * ```ts
 * import { RedisTokenStore } from "@cair/auth-redis"
 *
 * const options: RedisTokenStore.Options = {
 *   url: process.env.CAIR_REDIS_URL ?? "redis://127.0.0.1:6379",
 *   commandTimeoutMs: 500
 * }
 * const StoreLive = RedisTokenStore.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. May hold a password: give it `Redacted`. */
  readonly url: Redacted.Redacted<string> | string
  /** Prepended to every key and channel. Default `cair:auth:`. */
  readonly keyPrefix?: string | undefined
  /** No command waits longer than this, in milliseconds. Default 2 000. */
  readonly commandTimeoutMs?: number | undefined
  /**
   * How long the first calls wait for the first connection, from the store's start, rather than
   * going on without Redis. Default 3 000.
   */
  readonly connectTimeoutMs?: number | undefined
  /** A waiter checks the entry and the lease at least this often, in case a notification was lost. Default 500. */
  readonly pollIntervalMs?: number | undefined
}

/**
 * Connects (in the background: it never waits on Redis) and builds the store. The connection
 * closes with the scope. A URL node-redis cannot parse fails at once with a `TokenStoreError`
 * (`Misconfigured`, operation `connect`) that says what is wrong without repeating the URL.
 *
 * @example
 * ```ts
 * import { RedisTokenStore } from "@cair/auth-redis"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* RedisTokenStore.make({ url: "redis://127.0.0.1:6379" })
 *   const slot = yield* store.forClient({
 *     clientId: "my-client",
 *     baseUrl: "https://forecaster.cairhealth.com",
 *     clientSecret: undefined // the store needs the secret to seal: this fails with a TokenStoreError
 *   })
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<TokenStore.TokenStore.Service, TokenStore.TokenStoreError, Scope.Scope> = internal.make

/**
 * The store as a layer: `make` in the layer's scope. Fails with a `TokenStoreError` (`Misconfigured`) for a URL
 * node-redis cannot parse; never for an outage (Redis down at start is an outage, not a failure).
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import { RedisTokenStore } from "@cair/auth-redis"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Layer from "effect/Layer"
 *
 * // The same CairAuth, now sharing its token with every process on this Redis.
 * const AuthLive = CairAuth.layer({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! }).pipe(
 *   Layer.provide(RedisTokenStore.layer({ url: "redis://127.0.0.1:6379" })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<TokenStore.TokenStore, TokenStore.TokenStoreError> =
  internal.layer

/**
 * The options read through Effect `Config`: `CAIR_REDIS_URL`, redacted (it may hold a password).
 *
 * @example
 * ```ts
 * import { RedisTokenStore } from "@cair/auth-redis"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const options = yield* RedisTokenStore.config
 *   yield* Effect.log(`Redis URL configured: ${String(options.url)}`) // <redacted>
 * })
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const config: Config.Config<Options> = Config.all({
  url: Config.redacted(Config.nonEmptyString("CAIR_REDIS_URL"))
})

/**
 * `layer` with its options from `config`; a missing `CAIR_REDIS_URL` is a `ConfigError` naming it, one node-redis
 * cannot parse a `TokenStoreError`.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import { RedisTokenStore } from "@cair/auth-redis"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Layer from "effect/Layer"
 *
 * const AuthLive = CairAuth.layerConfig.pipe(
 *   Layer.provide(RedisTokenStore.layerConfig),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<
  TokenStore.TokenStore,
  ConfigError.ConfigError | TokenStore.TokenStoreError
> = Layer.unwrapEffect(
  Effect.map(config, layer)
)
