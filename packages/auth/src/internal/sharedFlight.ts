import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { CairAuthError } from "../CairAuthError.js"
import type { IssuedTokenSet } from "../TokenEndpoint.js"
import type { TokenSet } from "../TokenSet.js"
import { TokenStore, TokenStoreError } from "../TokenStore.js"
import type { Client, Entry, Lease, Slot } from "../TokenStore.js"
import { defaultBaseUrl, defaultMaxRetries, defaultRequestTimeoutMs } from "./options.js"

/*
 * What a shared store adds to the core's flight: the flight of a process goes through the store's lease, so
 * that across a fleet one process at a time requests or refreshes. The core's state machine still decides
 * everything about tokens (when a token is served, when a flight starts, what is fresh): this module only
 * answers, for a flight the core started, "the fleet's token" or "the token this process obtained as the
 * lease holder", and tells the fleet about invalidations.
 */

/** @internal */
export interface SharingOptions {
  readonly clientId: string
  readonly baseUrl?: string | undefined
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  readonly requestTimeoutMs?: number | undefined
  readonly maxRetries?: number | undefined
}

/**
 * How long a lease lasts: every attempt's timeout, plus a second per attempt for the retry delays and the
 * store's writes. A holder that dies blocks the fleet no longer than this; one that lives longer (a long
 * `Retry-After`) loses the lease, and the next holder finds its refresh token claimed and uses the
 * credentials: at most two requests, and no refresh token sent twice.
 *
 * @internal
 */
export const leaseMs = (requestTimeoutMs: number, maxRetries: number): number =>
  (maxRetries + 1) * (requestTimeoutMs + 1_000)

/** A token set whose refresh token the flight may send, and whether it is still within its life. */
export interface Candidate {
  readonly issued: IssuedTokenSet
  readonly refreshTokenUsable: boolean
}

/** Where a token set came from. @internal */
export type Source = "credentials" | "refresh" | "store"

/** @internal */
export interface Request<A> {
  /** The token set this process holds, if any: its refresh token is the one to use without a store. */
  readonly previous: Candidate | undefined
  /**
   * The token set this process serves or served last: a shared entry with its access token is no replacement.
   * Not always `previous`: a set refused on arrival leaves the current token in service with its refresh token.
   */
  readonly current: TokenSet | undefined
  /** Whether a token set from the store is worth adopting now (the core's rule: before its refresh time). */
  readonly fresh: (issued: IssuedTokenSet, now: number) => boolean
  /** Obtains a token set: with `candidate`'s refresh token, or with the credentials when there is none. */
  readonly request: (
    candidate: Candidate | undefined
  ) => Effect.Effect<readonly [IssuedTokenSet, "credentials" | "refresh"], CairAuthError>
  /** Whether `candidate`'s refresh token is within its life, by the core's deadlines. */
  readonly refreshTokenUsable: (issued: IssuedTokenSet, now: number) => boolean
  /**
   * The core's judgement of a token set that arrived, from the endpoint or the store: the answer to hand out, or
   * the cycle's error (`ExpiredOnArrival`). It runs before the set is shared: the store shares only what the core
   * accepted.
   */
  readonly accept: (issued: IssuedTokenSet, source: Source) => Effect.Effect<A, CairAuthError>
}

/** @internal */
export interface Sharing {
  readonly obtain: <A>(request: Request<A>) => Effect.Effect<A, CairAuthError>
  /** Tells the fleet that `tokens`' access token was refused, if it is still the shared one. */
  readonly invalidated: (tokens: TokenSet) => Effect.Effect<void>
  /** Runs `onInvalidated` (until the scope closes) for each token set another process invalidated. */
  readonly watch: (onInvalidated: (tokens: TokenSet) => Effect.Effect<void>) => Effect.Effect<void, never, Scope.Scope>
}

const sameAccessToken = (a: TokenSet, b: TokenSet): boolean =>
  a === b || Redacted.value(a.accessToken) === Redacted.value(b.accessToken)

/** No store: every flight requests its own token. @internal */
export const alone: Sharing = {
  obtain: (request) =>
    Effect.flatMap(request.request(request.previous), ([issued, source]) => request.accept(issued, source)),
  invalidated: () => Effect.void,
  watch: () => Effect.void
}

/** Why a cycle went on without the store: it could not be opened, read or written. @internal */
export type StoreFallback = "unavailable" | "read" | "write"

/** What the shared flight reports to the metrics. @internal */
export interface Observer {
  readonly fellBack: (reason: StoreFallback) => void
  /** A flight left its request to the lease holder and waited. */
  readonly waited: (n: number) => void
  /** A holder found the refresh token claimed by a holder that did not finish: it took over. */
  readonly tookOver: (n: number) => void
}

/** @internal */
export const make = (
  options: SharingOptions,
  observer: Observer
): Effect.Effect<Sharing, never, TokenStore | Scope.Scope> =>
  Effect.gen(function*() {
    const client: Client = {
      clientId: options.clientId,
      baseUrl: options.baseUrl ?? defaultBaseUrl,
      clientSecret: options.clientSecret
    }
    const found = yield* Effect.flatMap(TokenStore, (store) => store.forClient(client)).pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) =>
        Effect.sync(() => observer.fellBack("unavailable")).pipe(
          Effect.zipRight(Effect.logWarning(`Cair token store not used: ${error.message}`)),
          Effect.as(Option.none<Slot>())
        )
      )
    )
    if (Option.isNone(found)) return alone
    const slot = found.value
    const lease = leaseMs(
      options.requestTimeoutMs ?? defaultRequestTimeoutMs,
      options.maxRetries ?? defaultMaxRetries
    )
    /** The store's version of the token set this process last adopted or shared: what an invalidation names. */
    const known = yield* Ref.make<{ readonly tokens: TokenSet; readonly version: string } | undefined>(undefined)
    const remember = (entry: Entry) => Ref.set(known, { tokens: entry.tokens.tokens, version: entry.version })
    /** The last version this process invalidated: its own notification must not invalidate its entry again. */
    const invalidatedHere = yield* Ref.make<string | undefined>(undefined)
    /**
     * The version whose refresh token this process claimed and sent without sharing what it got (the core refused
     * the set, or the write failed): its own token set holds the successor, which nobody else has.
     */
    const spentHere = yield* Ref.make<string | undefined>(undefined)

    /** The shared entry, if this flight should take it instead of requesting: valid, fresh and not ours. */
    const adoptable = <A>(request: Request<A>, latest: Option.Option<Entry>, now: number): Option.Option<Entry> =>
      Option.filter(latest, (entry) =>
        !entry.invalidated &&
        (request.current === undefined || !sameAccessToken(entry.tokens.tokens, request.current)) &&
        request.fresh(entry.tokens, now))

    const adopt = <A>(request: Request<A>, entry: Entry) =>
      Effect.tap(request.accept(entry.tokens, "store"), () => remember(entry))

    /** Holding the lease: the latest entry once more, then its refresh token (claimed once) or the credentials. */
    const asHolder = <A>(request: Request<A>, held: Lease) =>
      Effect.gen(function*() {
        const latest = yield* slot.latest
        const now = yield* Clock.currentTimeMillis
        const fleet = adoptable(request, latest, now)
        if (Option.isSome(fleet)) return yield* adopt(request, fleet.value)
        let candidate: Candidate | undefined
        let claimed: string | undefined
        if (Option.isNone(latest)) {
          // Nothing shared (a new or restarted store): this process's own refresh token is nobody else's.
          candidate = request.previous
        } else if (!latest.value.refreshClaimed && (yield* slot.claimRefresh(held, latest.value.version))) {
          claimed = latest.value.version
          candidate = {
            issued: latest.value.tokens,
            refreshTokenUsable: request.refreshTokenUsable(latest.value.tokens, now)
          }
        } else if (latest.value.version === (yield* Ref.get(spentHere))) {
          // This process sent that refresh token and kept what it got: its own refresh token is the latest.
          candidate = request.previous
        } else {
          observer.tookOver(1)
          yield* Effect.logDebug(
            "Cair token: the shared refresh token was claimed by a holder that did not finish; using the credentials"
          )
        }
        const [issued, source] = yield* request.request(candidate).pipe(
          // A failed request gives its refresh token back: the next holder may retry it, as this process would.
          Effect.tapError(() => claimed === undefined ? Effect.void : Effect.ignore(slot.unclaimRefresh(held, claimed)))
        )
        const spent = claimed === undefined ? Effect.void : Ref.set(spentHere, claimed)
        // The core judges first: a set it refuses (expired on arrival) is never shared. Its refresh token was sent,
        // so the claim stays; this process keeps the set's refresh token for its next cycle.
        const answer = yield* Effect.tapError(request.accept(issued, source), () => spent)
        const written = yield* slot.put(issued, Option.map(latest, (entry) => entry.version)).pipe(
          Effect.tapError((error) =>
            Effect.zipRight(
              Effect.sync(() => observer.fellBack("write")),
              Effect.logDebug(`Cair token store: sharing the new token failed: ${error.message}`)
            )
          ),
          Effect.orElseSucceed(Option.none<Entry>)
        )
        yield* Option.isSome(written) ? remember(written.value) : spent
        return answer
      }).pipe(Effect.ensuring(Effect.ignore(slot.releaseLease(held))))

    const shared = <A>(request: Request<A>) =>
      Effect.gen(function*() {
        const giveUpAt = (yield* Clock.currentTimeMillis) + lease + 5_000
        while (true) {
          const latest = yield* slot.latest
          const now = yield* Clock.currentTimeMillis
          const fleet = adoptable(request, latest, now)
          if (Option.isSome(fleet)) return yield* adopt(request, fleet.value)
          const held = yield* slot.acquireLease(lease)
          if (Option.isSome(held)) return yield* asHolder(request, held.value)
          if (now >= giveUpAt) {
            return yield* new TokenStoreError({
              reason: "Timeout",
              operation: "awaitLease",
              description: `the lease holder neither finished nor let go within ${lease + 5_000} ms`
            })
          }
          observer.waited(1)
          yield* Effect.logDebug("Cair token: another process holds the lease; waiting for its token")
          yield* slot.awaitChange(Option.map(latest, (entry) => entry.version), giveUpAt - now)
        }
      })

    /** Whether `candidate`'s refresh token is the fleet's: adopted from the store, or shared through it. */
    const fleetHolds = (candidate: Candidate | undefined) =>
      Effect.map(Ref.get(known), (current) =>
        candidate !== undefined && current !== undefined &&
        Redacted.value(current.tokens.refreshToken) === Redacted.value(candidate.issued.tokens.refreshToken))

    const obtain = <A>(request: Request<A>) =>
      Effect.catchTag(
        shared(request),
        "TokenStoreError",
        (error) =>
          Effect.gen(function*() {
            observer.fellBack("read")
            yield* Effect.logDebug(`Cair token store: ${error.message}; this process requests on its own`)
            // Without the store nothing stops another process from sending the fleet's refresh token too (every
            // process of the fleet holds it during an outage), nor a live holder after a wait timed out: only the
            // credentials are safe then. A refresh token this process got on its own is its own.
            const own = error.operation !== "awaitLease" && !(yield* fleetHolds(request.previous))
            const [issued, source] = yield* request.request(own ? request.previous : undefined)
            return yield* request.accept(issued, source)
          })
      )

    const invalidated = (tokens: TokenSet) =>
      Effect.flatMap(Ref.get(known), (current) =>
        current === undefined || !sameAccessToken(current.tokens, tokens)
          ? Effect.void
          : Ref.set(invalidatedHere, current.version).pipe(
            Effect.zipRight(slot.invalidate(current.version)),
            Effect.tapError((error) =>
              Effect.logDebug(`Cair token store: telling the fleet of the invalidation failed: ${error.message}`)
            ),
            Effect.ignore
          ))

    const watch = (onInvalidated: (tokens: TokenSet) => Effect.Effect<void>) =>
      Effect.asVoid(Effect.forkScoped(Stream.runForEach(slot.changes, (change) =>
        change._tag !== "Invalidated"
          ? Effect.void
          : Effect.flatMap(Effect.zip(Ref.get(known), Ref.get(invalidatedHere)), ([current, here]) =>
            current !== undefined && current.version === change.version && here !== change.version
              ? onInvalidated(current.tokens)
              : Effect.void))))

    return { obtain, invalidated, watch }
  })
