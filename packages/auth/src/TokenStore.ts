/**
 * Where the token sets of `CairAuth` are shared. The default store keeps them in memory, private to
 * the process; `@cair/auth-redis` shares them through Redis, so that a fleet of processes with one
 * client id holds one token and asks the token endpoint once. A future store (Postgres, DynamoDB)
 * implements the same small contract and passes the same conformance suite
 * (`TokenStoreConformance`).
 *
 * The contract, per client (a client id at a base URL, see {@link Client}):
 *
 * - **One entry**, the latest token set, named by a `version` that changes with every write. It may
 *   be marked `invalidated` (its access token was refused: a 401) and `refreshClaimed` (a lease
 *   holder took its refresh token to use it: nobody may send it again).
 * - **A lease**: at most one holder at a time (`SET NX PX` and compare-and-delete in Redis), which
 *   expires on its own, so a holder that dies blocks the others only until then.
 * - **Compare-and-set** writes and invalidations on the version: a late writer or a late 401 for an
 *   old token leaves a newer entry alone.
 * - **Notifications** of writes, invalidations and released leases, with `awaitChange` as the
 *   bounded wait (pub/sub with polling as the fallback in Redis).
 *
 * Every operation fails with a typed {@link TokenStoreError}; the store decides nothing about
 * tokens: when a token is fresh, when to refresh and what to do when the store fails is the core's
 * state machine's business.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/tokenStore.js"
import type { IssuedTokenSet } from "./TokenEndpoint.js"

/**
 * A token set as the token endpoint issued it, with the local times of the exchange. A store that
 * persists it must keep `tokens` secret (its tokens are `Redacted`): `@cair/auth-redis` seals it.
 *
 * @example
 * ```ts
 * import type { TokenStore } from "@cair/auth"
 *
 * const refreshTokenExpiresAt = (stored: TokenStore.StoredTokenSet): Date => stored.tokens.refreshTokenExpiresAt
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StoredTokenSet = IssuedTokenSet

/**
 * The client whose token sets a {@link Slot} holds. Two clients share nothing, even on one store:
 * different ids, or one id at two base URLs, have different slots. `clientSecret` is for stores that
 * seal what they keep (the memory store keeps nothing outside the process and ignores it).
 *
 * @example
 * ```ts
 * import type { TokenStore } from "@cair/auth"
 * import * as Redacted from "effect/Redacted"
 *
 * const client: TokenStore.Client = {
 *   clientId: "my-client",
 *   baseUrl: "https://forecaster.cairhealth.com",
 *   clientSecret: Redacted.make(process.env.CAIR_CLIENT_SECRET!)
 * }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Client {
  readonly clientId: string
  /** The resolved base URL (no trailing slash), as `CairAuth` uses it. */
  readonly baseUrl: string
  readonly clientSecret: Redacted.Redacted<string> | undefined
}

/**
 * The shared token set of one client, as the store holds it.
 *
 * @example
 * ```ts
 * import type { TokenStore } from "@cair/auth"
 *
 * const usableRefreshToken = (entry: TokenStore.Entry): boolean => !entry.refreshClaimed
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Entry {
  /** Names this write: changes with every `put`. Not secret. */
  readonly version: string
  readonly tokens: StoredTokenSet
  /** Its access token was refused (a 401 somewhere in the fleet); its refresh token may still be used. */
  readonly invalidated: boolean
  /** A lease holder claimed its refresh token to send it: nobody else may send it. */
  readonly refreshClaimed: boolean
}

/**
 * A held lease: the right to request or refresh the client's token, until it expires or is released.
 *
 * @example
 * ```ts
 * import type { TokenStore } from "@cair/auth"
 *
 * const describe = (lease: TokenStore.Lease): string => `lease held for at most ${lease.ttlMs} ms`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Lease {
  /** A random value only the holder knows, checked by release and claim (compare-and-delete). */
  readonly id: string
  readonly ttlMs: number
}

/**
 * What changed in a slot, as other processes are told: a new entry, an invalidated one, or a lease
 * released. Holds no secret.
 *
 * @example
 * ```ts
 * import type { TokenStore } from "@cair/auth"
 *
 * const describe = (change: TokenStore.Change): string =>
 *   change._tag === "Released" ? "lease released" : `${change._tag} ${change.version}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Change = Data.TaggedEnum<{
  readonly Written: { readonly version: string }
  readonly Invalidated: { readonly version: string }
  readonly Released: {}
}>

/**
 * Why a store operation failed.
 *
 * - `Unavailable`: the store cannot be reached, refused the connection or our credentials, or is in
 *   an outage already seen (calls fail at once until it answers again).
 * - `Timeout`: no answer within the store's command timeout.
 * - `Malformed`: what the store holds cannot be read (another version, another secret, tampered).
 * - `Misconfigured`: the store cannot serve this client as given (a sealing store without the secret).
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Schema from "effect/Schema"
 *
 * Schema.is(TokenStore.TokenStoreErrorReason)("Timeout") // true
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const TokenStoreErrorReason = Schema.Literal("Unavailable", "Timeout", "Malformed", "Misconfigured")

/**
 * @example
 * ```ts
 * import type { TokenStore } from "@cair/auth"
 *
 * const transient = (reason: TokenStore.TokenStoreErrorReason): boolean => reason === "Unavailable" || reason === "Timeout"
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export type TokenStoreErrorReason = typeof TokenStoreErrorReason.Type

/**
 * Marks a {@link TokenStoreError}: what `isTokenStoreError` checks, so that a plain object with the
 * same `_tag` is not taken for one.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 *
 * const error = new TokenStore.TokenStoreError({ reason: "Unavailable", operation: "latest", description: "down" })
 * console.log(TokenStore.TypeId in error) // true
 * ```
 *
 * @since 0.2.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@cair/auth/TokenStoreError")

/**
 * @since 0.2.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A store operation failed. Its message names the operation and the reason, never a token, a
 * secret or a password from the store's URL.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 *
 * const error = new TokenStore.TokenStoreError({ reason: "Timeout", operation: "latest", description: "no answer in 1000 ms" })
 * console.log(error.message) // Token store latest failed (Timeout): no answer in 1000 ms
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@cair/auth/TokenStoreError")(
  "TokenStoreError",
  {
    reason: TokenStoreErrorReason,
    operation: Schema.String,
    description: Schema.String
  }
) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `Token store ${this.operation} failed (${this.reason}): ${this.description}`
  }
}

/**
 * Whether `u` is a {@link TokenStoreError} (by its type id, not by its `_tag`).
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 *
 * TokenStore.isTokenStoreError({ _tag: "TokenStoreError" }) // false
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isTokenStoreError = (u: unknown): u is TokenStoreError => Predicate.hasProperty(u, TypeId)

/**
 * @since 0.1.0
 * @category tags
 */
export declare namespace TokenStore {
  /**
   * @since 0.2.0
   * @category models
   */
  export interface Service {
    /**
     * The slot of one client. Needs a `Scope`: a store that subscribes to notifications
     * unsubscribes when it closes.
     */
    readonly forClient: (client: Client) => Effect.Effect<Slot, TokenStoreError, Scope.Scope>
  }
}

/**
 * The shared place of one client's token set: its entry, its lease and its notifications.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * // Takes the lease if nobody holds it, or waits (at most 2 s) for its holder's result.
 * const leaseOrWait = (slot: TokenStore.Slot) =>
 *   Effect.gen(function*() {
 *     const entry = yield* slot.latest
 *     const lease = yield* slot.acquireLease(10_000)
 *     if (Option.isNone(lease)) yield* slot.awaitChange(Option.map(entry, (entry) => entry.version), 2_000)
 *     return lease
 *   })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Slot {
  /** The latest entry, if any (none once its refresh token has expired). */
  readonly latest: Effect.Effect<Option.Option<Entry>, TokenStoreError>
  /**
   * Writes `tokens` as the new entry if the current entry's version is still `expected` (`None`:
   * if there is no entry). Answers the new entry, or `None` when the expectation no longer held.
   * The entry lives no longer than its refresh token.
   */
  readonly put: (
    tokens: StoredTokenSet,
    expected: Option.Option<string>
  ) => Effect.Effect<Option.Option<Entry>, TokenStoreError>
  /** Marks the entry invalidated if it is still `version`; answers whether it did. */
  readonly invalidate: (version: string) => Effect.Effect<boolean, TokenStoreError>
  /** Takes the lease for `ttlMs` if nobody holds it. */
  readonly acquireLease: (ttlMs: number) => Effect.Effect<Option.Option<Lease>, TokenStoreError>
  /** Releases the lease if it is still this one (compare-and-delete), and tells the waiters. */
  readonly releaseLease: (lease: Lease) => Effect.Effect<void, TokenStoreError>
  /**
   * Claims the refresh token of entry `version` for the holder of `lease`, once: answers `true` only
   * if the lease is still held, the entry is still `version` and its refresh token was not claimed.
   * A holder sends a refresh token only after claiming it, so none is ever sent twice.
   */
  readonly claimRefresh: (lease: Lease, version: string) => Effect.Effect<boolean, TokenStoreError>
  /**
   * Gives back the refresh token of entry `version` that the holder of `lease` claimed and could not use (its
   * request failed): the next holder may send it again, as a single process retries it. Does nothing unless
   * the lease is still held and the entry is still `version`.
   */
  readonly unclaimRefresh: (lease: Lease, version: string) => Effect.Effect<void, TokenStoreError>
  /**
   * Waits until the entry is no longer `seen` (written or gone), the lease is free, or `maxWaitMs`
   * have passed, whichever comes first. It tells nothing: read `latest` after it.
   */
  readonly awaitChange: (seen: Option.Option<string>, maxWaitMs: number) => Effect.Effect<void, TokenStoreError>
  /** The changes made from now on, by any process. Best effort: a store in an outage tells nothing. */
  readonly changes: Stream.Stream<Change>
}

/**
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * const latestVersion = Effect.gen(function*() {
 *   const store = yield* TokenStore.TokenStore
 *   const slot = yield* store.forClient({ clientId: "my-client", baseUrl: "https://forecaster.cairhealth.com", clientSecret: undefined })
 *   return Option.map(yield* slot.latest, (entry) => entry.version)
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const TokenStore: Context.Tag<TokenStore, TokenStore.Service> = internal.tag

/**
 * @since 0.1.0
 * @category tags
 */
export interface TokenStore {
  readonly _: unique symbol
}

/**
 * How long a store may keep `stored` from `now` (local epoch milliseconds): the life left to its
 * refresh token, measured on the server's clock where the exchange had a `Date` header. Every store
 * uses it, so that no entry outlives its refresh token.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 *
 * const expireAfterMs = (stored: TokenStore.StoredTokenSet) => TokenStore.remainingLifeMs(stored, Date.now())
 * ```
 *
 * @since 0.2.0
 * @category utils
 */
export const remainingLifeMs: (stored: StoredTokenSet, now: number) => number = internal.remainingLifeMs

/**
 * The wait of `Slot.awaitChange`, for store authors: ends as soon as `done` holds, checking it at
 * once, on every change from `changes` (the fast path: pub/sub, a listener) and at least every
 * `pollMs` (the fallback for a lost notification), and at the latest after `maxWaitMs`.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Stream from "effect/Stream"
 *
 * // A store without notifications polls: here a check that is already true ends the wait at once.
 * const wait = TokenStore.awaitChangeWith({ changes: Stream.never, done: Effect.succeed(true), maxWaitMs: 5_000, pollMs: 250 })
 * ```
 *
 * @since 0.2.0
 * @category utils
 */
export const awaitChangeWith: <E>(options: {
  readonly changes: Stream.Stream<Change>
  readonly done: Effect.Effect<boolean, E>
  readonly maxWaitMs: number
  readonly pollMs: number
}) => Effect.Effect<void, E> = internal.awaitChangeWith

/**
 * A store in memory, private to the process: slots per client, leases and notifications as a
 * shared store has them, so a test can run several `CairAuth`s as a fleet in one process.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* TokenStore.makeMemory
 *   const slot = yield* store.forClient({ clientId: "my-client", baseUrl: "https://forecaster.cairhealth.com", clientSecret: undefined })
 *   const entry = yield* slot.latest // Option.none(): a new store is empty
 *   return Option.isNone(entry)
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<TokenStore.Service> = internal.makeMemory

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
export const layerMemory: Layer.Layer<TokenStore> = internal.layerMemory
