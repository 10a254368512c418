/**
 * Where `CairAuth` keeps the latest token set between requests. The default keeps it in a `Ref`
 * in memory; a store shared between processes (Redis, a database) can implement the same three
 * operations so that a fleet shares one token.
 *
 * `CairAuth` reads the store when it starts (a persisted token is reused) and before each token
 * request (another process may have refreshed already), and writes every token set it obtains.
 * The cached read itself never touches the store.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { IssuedTokenSet } from "./TokenEndpoint.js"

/**
 * A token set as the token endpoint issued it, with the local times of the exchange. A store
 * that persists it must keep `tokens` secret (its tokens are `Redacted`; encode them with the
 * `TokenSet` schema).
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * const refreshTokenExpiresAt = Effect.flatMap(TokenStore.TokenStore, (store) => store.get).pipe(
 *   Effect.map(Option.map((stored: TokenStore.StoredTokenSet) => stored.tokens.refreshTokenExpiresAt))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StoredTokenSet = IssuedTokenSet

/**
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * // The in-memory store, logging every write.
 * const LoggingStore = Layer.effect(
 *   TokenStore.TokenStore,
 *   Effect.map(TokenStore.makeMemory, (memory) =>
 *     TokenStore.TokenStore.of({
 *       ...memory,
 *       set: (stored) =>
 *         Effect.zipRight(Effect.log(`token set stored at ${stored.receivedAt}`), memory.set(stored))
 *     }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@cair/auth/TokenStore")<TokenStore, {
  /** The latest token set, if any. A store that cannot answer should log and answer `None`. */
  readonly get: Effect.Effect<Option.Option<StoredTokenSet>>
  /** Replaces the latest token set. A store that cannot write should log and carry on. */
  readonly set: (tokens: StoredTokenSet) => Effect.Effect<void>
  /** Forgets the token set. */
  readonly clear: Effect.Effect<void>
}>() {}

/**
 * A store in a `Ref`, private to one `CairAuth`.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* TokenStore.makeMemory
 *   const stored = yield* store.get // Option.none(): a new store is empty
 *   yield* store.clear
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<TokenStore["Type"]> = Effect.map(
  Ref.make(Option.none<StoredTokenSet>()),
  (ref) =>
    TokenStore.of({
      get: Ref.get(ref),
      set: (tokens) => Ref.set(ref, Option.some(tokens)),
      clear: Ref.set(ref, Option.none())
    })
)

/**
 * @example
 * ```ts
 * import { CairAuth, TokenEndpoint, TokenStore } from "@cair/auth"
 * import * as Layer from "effect/Layer"
 *
 * // What CairAuth.layer uses: a store private to this CairAuth.
 * const AuthLive = Layer.scoped(CairAuth.CairAuth, CairAuth.make({ clientId: "my-client" })).pipe(
 *   Layer.provide(TokenStore.layerMemory),
 *   Layer.provide(TokenEndpoint.layer({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory)
