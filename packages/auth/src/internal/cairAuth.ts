import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as FiberId from "effect/FiberId"
import { identity } from "effect/Function"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as CairAuth from "../CairAuth.js"
import type { CairAuthError, RefreshTokenRejected } from "../CairAuthError.js"
import { TokenEndpoint } from "../TokenEndpoint.js"
import type { IssuedTokenSet } from "../TokenEndpoint.js"
import { TokenEvent } from "../TokenEvent.js"
import { TokenStore } from "../TokenStore.js"
import { type Deadlines, deadlines, type LifetimeOptions } from "./lifetime.js"

/** @internal */
export const tag = Context.GenericTag<CairAuth.CairAuth, CairAuth.CairAuth.Service>("@cair/auth/CairAuth")

/** The first rest after a failed cycle; it doubles with each failure in a row, up to `maxRestMs`. */
const baseRestMs = 1_000
const maxRestMs = 30_000

/** @internal */
export const restMs = (failures: number, retryAfterMs: number | undefined): number =>
  Math.max(retryAfterMs ?? 0, Math.min(baseRestMs * 2 ** Math.max(0, failures - 1), maxRestMs))

interface Cached extends Deadlines {
  readonly issued: IssuedTokenSet
  readonly view: CairAuth.AccessToken
}

/**
 * The whole state of the cache, in one `Ref`:
 *
 * - `token`: the latest token set and its deadlines (possibly past them, or invalidated: its
 *   refresh token is still useful).
 * - `flight`: the one token request under way, which every waiting caller shares.
 * - `restUntil` / `lastError`: after a failed cycle no new one starts before `restUntil`; callers
 *   without a usable token meanwhile get `lastError` at once.
 */
interface State {
  readonly token: Cached | undefined
  readonly flight: Deferred.Deferred<CairAuth.AccessToken, CairAuthError> | undefined
  readonly generation: number
  readonly failures: number
  readonly restUntil: number
  readonly lastError: CairAuthError | undefined
}

const toCached = (issued: IssuedTokenSet, limits: Deadlines, generation: number): Cached => ({
  ...limits,
  issued,
  view: {
    token: issued.tokens.accessToken,
    generation,
    expiresAt: limits.expiresAt,
    usableUntil: limits.usableUntil,
    refreshAt: limits.refreshAt,
    tokenSet: issued.tokens
  }
})

const invalidated = (cached: Cached): Cached => ({
  ...cached,
  usableUntil: -Infinity,
  refreshAt: -Infinity,
  view: { ...cached.view, usableUntil: -Infinity, refreshAt: -Infinity }
})

const sameToken = (cached: Cached, target: Redacted.Redacted<string> | CairAuth.AccessToken): boolean =>
  Redacted.isRedacted(target)
    ? cached.view.token === target || Redacted.value(cached.view.token) === Redacted.value(target)
    : cached.view.generation === target.generation

/** @internal */
export const make = (options: LifetimeOptions & { readonly clientId: string }) =>
  Effect.gen(function*() {
    const endpoint = yield* TokenEndpoint
    const store = yield* TokenStore
    const scope = yield* Effect.scope
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<TokenEvent>(), PubSub.shutdown)
    const publish = (event: TokenEvent) => PubSub.publish(pubsub, event)

    const initial = Option.map(yield* store.get, (issued) => toCached(issued, deadlines(issued, options), 1))
    const state = yield* Ref.make<State>({
      token: Option.getOrUndefined(initial),
      flight: undefined,
      generation: Option.isSome(initial) ? 1 : 0,
      failures: 0,
      restUntil: 0,
      lastError: undefined
    })

    const requestWithCredentials = Effect.map(endpoint.requestToken, (issued) => [issued, "credentials"] as const)

    const fallBack = (reason: "RefreshTokenExpired" | "RefreshTokenRejected", cause?: RefreshTokenRejected) =>
      Effect.logWarning(
        reason === "RefreshTokenExpired"
          ? "Cair refresh token has expired; requesting a new token with the client credentials"
          : `Cair refresh token was rejected (HTTP ${cause?.status}); requesting a new token with the client credentials`
      ).pipe(Effect.zipRight(publish(TokenEvent.FellBack({ reason, cause }))), Effect.zipRight(requestWithCredentials))

    /** One cycle: a newer token from the store, else the refresh token, else the credentials. */
    const obtain = (previous: Cached | undefined, now: number) =>
      Effect.gen(function*() {
        const stored = yield* store.get
        if (Option.isSome(stored) && stored.value.tokens !== previous?.issued.tokens) {
          if (now < deadlines(stored.value, options).refreshAt) return [stored.value, "store"] as const
        }
        if (previous === undefined) return yield* requestWithCredentials
        if (now >= previous.refreshTokenUsableUntil) return yield* fallBack("RefreshTokenExpired")
        return yield* endpoint.refresh(previous.issued.tokens.refreshToken).pipe(
          Effect.map((issued) => [issued, "refresh"] as const),
          Effect.catchTag("RefreshTokenRejected", (cause) => fallBack("RefreshTokenRejected", cause))
        )
      })

    const succeeded = (issued: IssuedTokenSet, source: "credentials" | "refresh" | "store") =>
      Effect.gen(function*() {
        if (source !== "store") yield* store.set(issued)
        const now = yield* Clock.currentTimeMillis
        const limits = deadlines(issued, options)
        const expiredOnArrival = limits.usableUntil <= now
        const cached = yield* Ref.modify(state, (s): [Cached, State] => {
          const generation = s.generation + 1
          if (!expiredOnArrival) {
            const cached = toCached(issued, limits, generation)
            return [cached, {
              token: cached,
              flight: undefined,
              generation,
              failures: 0,
              restUntil: 0,
              lastError: undefined
            }]
          }
          // Served for one rest period, so that a burst of callers does not become a burst of requests.
          const failures = s.failures + 1
          const restUntil = now + restMs(failures, undefined)
          const cached = toCached(issued, { ...limits, usableUntil: restUntil, refreshAt: restUntil }, generation)
          return [cached, { token: cached, flight: undefined, generation, failures, restUntil, lastError: undefined }]
        })
        if (expiredOnArrival) {
          yield* Effect.logWarning(
            `Cair token set had expired on arrival (expiresAt ${issued.tokens.expiresAt.toISOString()}, ` +
              `server Date ${
                issued.serverDate === undefined ? "absent" : new Date(issued.serverDate).toISOString()
              }); ` +
              `serving it until ${new Date(cached.usableUntil).toISOString()} before asking again`
          )
        }
        yield* publish(
          TokenEvent.Acquired({
            source,
            generation: cached.view.generation,
            expiresAt: new Date(cached.expiresAt),
            expiredOnArrival
          })
        )
        return cached.view
      })

    const failed = (error: CairAuthError, background: boolean) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const retryAfterMs = error._tag === "TokenRequestFailed" ? error.retryAfterMs : undefined
        const restUntil = yield* Ref.modify(state, (s): [number, State] => {
          const failures = s.failures + 1
          const restUntil = now + restMs(failures, retryAfterMs)
          return [restUntil, { ...s, flight: undefined, failures, restUntil, lastError: error }]
        })
        // The callers of a foreground request get the error itself; a background failure only has the log.
        yield* Effect.logWithLevel(
          background ? LogLevel.Warning : LogLevel.Debug,
          `Cair token request failed${background ? " (still serving the current token)" : ""}; ` +
            `next attempt not before ${new Date(restUntil).toISOString()}: ${error.message}`
        )
        yield* publish(TokenEvent.Failed({ error, background, retryAt: new Date(restUntil) }))
      })

    /** The shared request. Runs in the layer's scope, so no caller's interruption can stop it. */
    const flight = (deferred: Deferred.Deferred<CairAuth.AccessToken, CairAuthError>, background: boolean) =>
      Effect.gen(function*() {
        const s = yield* Ref.get(state)
        const [issued, source] = yield* obtain(s.token, yield* Clock.currentTimeMillis)
        return yield* succeeded(issued, source)
      }).pipe(
        Effect.tapError((error) => failed(error, background)),
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? Deferred.done(deferred, exit)
            : Ref.update(state, (s) => s.flight === deferred ? { ...s, flight: undefined } : s).pipe(
              Effect.zipRight(Deferred.done(deferred, exit))
            )
        ),
        Effect.withSpan("CairAuth.flight", {
          attributes: { "cair.client_id": options.clientId, "cair.background": background }
        }),
        Effect.annotateLogs("cair.client_id", options.clientId)
      )

    const startFlight = (s: State, fiberId: FiberId.FiberId, background: boolean) => {
      const deferred = Deferred.unsafeMake<CairAuth.AccessToken, CairAuthError>(fiberId)
      const fork = Effect.forkIn(Effect.interruptible(flight(deferred, background)), scope)
      return [deferred, fork, { ...s, flight: deferred }] as const
    }

    /**
     * The slow path, deciding atomically whether to hand out the token, join the request under way, fail
     * with the last error or wait during a rest, or start a request. `force` (a forced refresh) skips only
     * the first: it never hands out the current token, but it does not start a request past a rest either.
     */
    const demand = (force: boolean): Effect.Effect<CairAuth.AccessToken, CairAuthError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.zip(Clock.currentTimeMillis, Effect.fiberId), ([now, fiberId]) =>
          Effect.flatten(Ref.modify(state, (s): [Effect.Effect<CairAuth.AccessToken, CairAuthError>, State] => {
            if (!force && s.token !== undefined && now < s.token.usableUntil) return [Effect.succeed(s.token.view), s]
            if (s.flight !== undefined) {
              return [
                Effect.zipRight(
                  Effect.logDebug("Cair token: joining the request under way"),
                  restore(Deferred.await(s.flight))
                ),
                s
              ]
            }
            if (now < s.restUntil) {
              return s.lastError !== undefined
                ? [Effect.fail(s.lastError), s]
                : [restore(Effect.zipRight(Effect.sleep(s.restUntil - now), Effect.suspend(() => demand(force)))), s]
            }
            const [deferred, fork, next] = startFlight(s, fiberId, false)
            return [
              Effect.logDebug(
                force
                  ? "Cair token: refresh forced"
                  : s.token === undefined
                  ? "Cair token: none cached, requesting one"
                  : "Cair token: expired, renewing"
              ).pipe(
                Effect.zipRight(fork),
                Effect.zipRight(restore(Deferred.await(deferred)))
              ),
              next
            ]
          })))
      )
    const acquire = demand(false)
    const refresh = demand(true)

    /** Within the refresh window: start a background refresh unless one is under way or resting. */
    const refreshInBackground = Effect.uninterruptible(
      Effect.flatMap(Effect.zip(Clock.currentTimeMillis, Effect.fiberId), ([now, fiberId]) =>
        Effect.flatten(Ref.modify(state, (s): [Effect.Effect<unknown>, State] => {
          if (s.flight !== undefined || now < s.restUntil || s.token === undefined || now < s.token.refreshAt) {
            return [Effect.void, s]
          }
          const [, fork, next] = startFlight(s, fiberId, true)
          return [
            Effect.zipRight(Effect.logDebug("Cair token: in its refresh window, refreshing in the background"), fork),
            next
          ]
        })))
    )

    /**
     * The hot path: one `Ref` read and one clock read while the token is fresh. `select` picks what the
     * caller wants from the snapshot inside the same step, so `accessToken` costs no more than `get`.
     */
    const read = <A>(select: (token: CairAuth.AccessToken) => A): Effect.Effect<A, CairAuthError> =>
      Effect.flatMap(Ref.get(state), (s) =>
        Effect.clockWith((clock) => {
          const token = s.token
          const now = clock.unsafeCurrentTimeMillis()
          if (token === undefined || now >= token.usableUntil) {
            return Effect.map(acquire, select)
          }
          if (now >= token.refreshAt && s.flight === undefined && now >= s.restUntil) {
            return Effect.as(refreshInBackground, select(token.view))
          }
          return Effect.succeed(select(token.view))
        }))

    const invalidateWhere = (matches: (cached: Cached) => boolean) =>
      Effect.flatten(Ref.modify(state, (s): [Effect.Effect<void>, State] => {
        const token = s.token
        if (token === undefined || token.usableUntil === -Infinity || !matches(token)) {
          return [Effect.void, s]
        }
        const generation = token.view.generation
        return [
          Effect.logDebug(`Cair token: generation ${generation} invalidated`).pipe(
            Effect.zipRight(publish(TokenEvent.Invalidated({ generation }))),
            Effect.asVoid
          ),
          { ...s, token: invalidated(token) }
        ]
      }))

    return tag.of({
      get: read(identity),
      accessToken: read((token) =>
        token.token
      ),
      tokenSet: read((token) =>
        token.tokenSet
      ),
      refresh,
      invalidate: invalidateWhere(() => true),
      invalidateToken: (token) => invalidateWhere((cached) => sameToken(cached, token)),
      events: Stream.fromPubSub(pubsub)
    })
  })

/** @internal */
export type MakeRequirements = TokenEndpoint | TokenStore | Scope.Scope
