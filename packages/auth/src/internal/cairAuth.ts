import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import { identity } from "effect/Function"
import * as LogLevel from "effect/LogLevel"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as CairAuth from "../CairAuth.js"
import { type CairAuthError, type RefreshTokenRejected, TokenRequestFailed } from "../CairAuthError.js"
import { TokenEndpoint } from "../TokenEndpoint.js"
import type { IssuedTokenSet } from "../TokenEndpoint.js"
import { TokenEvent } from "../TokenEvent.js"
import type { TokenStore } from "../TokenStore.js"
import { deadlines, type LifetimeOptions } from "./lifetime.js"
import * as Metrics from "./metrics.js"
import * as SharedFlight from "./sharedFlight.js"
import * as TokenState from "./tokenState.js"

/** @internal */
export const tag = Context.GenericTag<CairAuth.CairAuth, CairAuth.CairAuth.Service>("@cair/auth/CairAuth")

/** Both clocks at once; the monotonic one in (fractional) milliseconds. */
const readNow = (clock: Clock.Clock): TokenState.Now => ({
  wall: clock.unsafeCurrentTimeMillis(),
  mono: Number(clock.unsafeCurrentTimeNanos()) / 1_000_000
})
const now: Effect.Effect<TokenState.Now> = Effect.clockWith((clock) => Effect.succeed(readNow(clock)))

/** An instant for a log line; never throws, whatever the number. */
const iso = (millis: number): string => {
  const date = new Date(millis)
  return Number.isNaN(date.getTime()) ? String(millis) : date.toISOString()
}

const sameToken = (entry: TokenState.Entry, target: Redacted.Redacted<string> | CairAuth.AccessToken): boolean =>
  Redacted.isRedacted(target)
    ? entry.view.token === target || Redacted.value(entry.view.token) === Redacted.value(target)
    : entry.view.generation === target.generation

const startReason = {
  forced: "Cair token: refresh forced",
  none: "Cair token: none cached, requesting one",
  expired: "Cair token: expired, renewing"
} as const

/** @internal */
/** @internal */
export const withTokenStore = (options: SharedFlight.SharingOptions) => (observer: SharedFlight.Observer) =>
  SharedFlight.make(options, observer)

/**
 * No store: the service's own `Ref` is its only cache. A store is for sharing tokens with other processes; a
 * private one in memory held a second copy of each token set, with its slot (3.5 KiB a client).
 *
 * @internal
 */
export const withoutStore = (): Effect.Effect<SharedFlight.Sharing> => Effect.succeed(SharedFlight.alone)

/** @internal */
export const make = <R>(
  options: LifetimeOptions & SharedFlight.SharingOptions & Metrics.RecorderOptions,
  sharingFor: (observer: SharedFlight.Observer) => Effect.Effect<SharedFlight.Sharing, never, R>
): Effect.Effect<CairAuth.CairAuth.Service, never, TokenEndpoint | Scope.Scope | R> =>
  Effect.gen(function*() {
    const endpoint = yield* TokenEndpoint
    const scope = yield* Effect.scope
    /**
     * The hub of `events`, made by the first subscription: events are for subscribers only, and an app holding a
     * client per organization (thousands) observes few of them; the hub and its stream cost 6 KiB a client. Two
     * first subscriptions at once keep the hub made first.
     */
    let hub: PubSub.PubSub<TokenEvent> | undefined
    const events: Stream.Stream<TokenEvent> = Stream.unwrap(
      Effect.suspend(() =>
        hub !== undefined ? Effect.succeed(Stream.fromPubSub(hub)) : Effect.flatMap(
          PubSub.unbounded<TokenEvent>(),
          (made) => {
            if (hub !== undefined) return Effect.as(PubSub.shutdown(made), Stream.fromPubSub(hub))
            hub = made
            return Effect.as(Scope.addFinalizer(scope, PubSub.shutdown(made)), Stream.fromPubSub(made))
          }
        )
      )
    )
    const publish = (event: TokenEvent) => hub === undefined ? Effect.void : PubSub.publish(hub, event)
    const recorder = Metrics.make(options, yield* FiberRef.get(FiberRef.currentMetricLabels))
    if (recorder.enabled) yield* Effect.addFinalizer(() => Effect.sync(recorder.close))
    const sharing = yield* sharingFor({
      fellBack: (reason) => recorder.bind(Metrics.specs.storeFallbacks, { "cair.auth.reason": reason })(1),
      waited: recorder.bind(Metrics.specs.leaseWaits),
      tookOver: recorder.bind(Metrics.specs.leaseTakeovers)
    })
    const reads = Metrics.reads(recorder)
    const recordFallback = {
      RefreshTokenExpired: recorder.bind(Metrics.specs.fallbacks, { "cair.auth.reason": "RefreshTokenExpired" }),
      RefreshTokenRejected: recorder.bind(Metrics.specs.fallbacks, { "cair.auth.reason": "RefreshTokenRejected" })
    }
    const recordInvalidation = recorder.bind(Metrics.specs.invalidations, { "cair.auth.reason": "invalidate" })
    const record401Invalidation = recorder.bind(Metrics.specs.invalidations, { "cair.auth.reason": "unauthorized" })
    const recordRenewalRefused = recorder.bind(Metrics.specs.renewalsRefused)
    const recordBackgroundRefresh = (error: CairAuthError | undefined) =>
      Effect.sync(() => recorder.bind(Metrics.specs.backgroundRefreshes, Metrics.outcome(error))(1))
    const warn = (warnings: ReadonlyArray<string>) =>
      Effect.forEach(warnings, (warning) => Effect.logWarning(`Cair token: ${warning}`), { discard: true })

    // Empty at first: the first caller's flight takes the shared token, if a store has one.
    const state = yield* Ref.make(TokenState.initial(undefined))

    /** Set once the service's scope closes: a call after it fails at once, rather than fork into a closed scope. */
    let closed = false
    yield* Effect.addFinalizer(() => Effect.sync(() => (closed = true)))
    const closedError = () =>
      new TokenRequestFailed({
        endpoint: endpoint.baseUrl,
        reason: "Closed",
        description: "the CairAuth service was closed (its layer, scope or runtime ended); build a new one"
      })

    const requestWithCredentials = Effect.map(endpoint.requestToken, (issued) => [issued, "credentials"] as const)

    const fallBack = (reason: "RefreshTokenExpired" | "RefreshTokenRejected", cause?: RefreshTokenRejected) =>
      Effect.sync(() => recordFallback[reason](1)).pipe(
        Effect.zipRight(Effect.logWarning(
          reason === "RefreshTokenExpired"
            ? "Cair refresh token has expired; requesting a new token with the client credentials"
            : `Cair refresh token was rejected (HTTP ${cause?.status}); requesting a new token with the client credentials`
        )),
        Effect.zipRight(publish(TokenEvent.FellBack({ reason, cause }))),
        Effect.zipRight(requestWithCredentials)
      )

    /**
     * One cycle: the fleet's token if a shared store has a fresh one, else (as the lease holder, or alone) the
     * refresh token, else the credentials.
     */
    const obtain = (previous: TokenState.Entry | undefined, at: TokenState.Now) =>
      sharing.obtain({
        previous: previous === undefined
          ? undefined
          : { issued: previous.renewal, refreshTokenUsable: TokenState.refreshTokenUsable(previous, at) },
        current: previous?.issued.tokens,
        // The store's token sets were corrected on their writer's clock: `adopted` gives them the shorter life.
        fresh: (issued, wall) => wall < deadlines(issued, options, true).refreshAt,
        refreshTokenUsable: (issued, wall) => wall < deadlines(issued, options, true).refreshTokenUsableUntil,
        request: (candidate) => {
          if (candidate === undefined) return requestWithCredentials
          if (!candidate.refreshTokenUsable) return fallBack("RefreshTokenExpired")
          return endpoint.refresh(candidate.issued.tokens.refreshToken).pipe(
            Effect.map((issued) => [issued, "refresh"] as const),
            Effect.catchTag("RefreshTokenRejected", (cause) => fallBack("RefreshTokenRejected", cause))
          )
        },
        // The state machine judges every set before the store shares it.
        accept: succeeded
      })

    /**
     * A token set arrived: `TokenState.arrived` decides. One that had expired on arrival is never handed out: the
     * cycle fails with `ExpiredOnArrival`, and the failure path (`failed`) rests and publishes `Failed`.
     */
    const succeeded = (issued: IssuedTokenSet, source: SharedFlight.Source) =>
      Effect.gen(function*() {
        const at = yield* now
        const limits = deadlines(issued, options, source === "store")
        const result = yield* Ref.modify(state, (s) => {
          const result = TokenState.arrived(s, issued, limits, at)
          return [result, result.state]
        })
        yield* warn(limits.warnings)
        if (result.expiredOnArrival) {
          const expiresAt = iso(issued.tokens.expiresAt.getTime())
          const serverDate = issued.serverDate === undefined ? "absent" : iso(issued.serverDate)
          yield* Effect.logWarning(
            `Cair token set had expired on arrival (expiresAt ${expiresAt}, server Date ${serverDate}); ` +
              "not handed out: check this machine's clock and the server's"
          )
          return yield* new TokenRequestFailed({
            endpoint: endpoint.baseUrl + (source === "refresh" ? "/api/refresh" : "/api/token"),
            reason: "ExpiredOnArrival",
            description: `the token set had already expired on arrival (expiresAt ${expiresAt}, server Date ` +
              `${serverDate}); not handed out: check this machine's clock and the server's`
          })
        }
        const entry = result.entry
        yield* publish(
          TokenEvent.Acquired({ source, generation: entry.view.generation, expiresAt: new Date(entry.view.expiresAt) })
        )
        return entry.view
      })

    const failed = (error: CairAuthError, background: boolean) =>
      Effect.gen(function*() {
        const at = yield* now
        const retryAfterMs = error._tag === "TokenRequestFailed" ? error.retryAfterMs : undefined
        const rest = yield* Ref.modify(state, (s) => {
          const result = TokenState.failed(s, error, retryAfterMs, at)
          return [result.rest, result.state]
        })
        const retryAt = at.wall + rest.forMs
        const capped = retryAfterMs !== undefined && retryAfterMs > TokenState.maxRetryAfterMs
          ? ` (the server asked to wait ${retryAfterMs} ms; a rest lasts at most ${TokenState.maxRetryAfterMs} ms)`
          : ""
        // The callers of a foreground request get the error itself; a background failure only has the log.
        yield* Effect.logWithLevel(
          background ? LogLevel.Warning : LogLevel.Debug,
          `Cair token request failed${background ? " (still serving the current token)" : ""}; ` +
            `next attempt not before ${iso(retryAt)}${capped}: ${error.message}`
        )
        yield* publish(TokenEvent.Failed({ error, background, retryAt: new Date(retryAt) }))
      })

    /**
     * A defect inside a flight (an app's `fetch` resolving `undefined`, a bug of ours) as the typed failure of the
     * cycle, so that the rest after it applies like after any failure: a defect is not a failure to `tapBoth`, and
     * each caller would start a new request at once. Only the defect's class is named: its message or stack could
     * hold anything.
     */
    const unexpected = (defect: unknown) => {
      const name = defect instanceof Error && /^[A-Za-z]{1,40}$/.test(defect.name) ? defect.name : typeof defect
      return new TokenRequestFailed({
        endpoint: endpoint.baseUrl,
        reason: "Transport",
        description: `an unexpected ${name} in the HTTP client or the SDK (a defect); the client rests as after ` +
          "any failure"
      })
    }

    /** The shared request. Runs in the layer's scope, so no caller's interruption can stop it. */
    const flight = (background: boolean) =>
      Effect.gen(function*() {
        const s = yield* Ref.get(state)
        return yield* obtain(s.entry, yield* now)
      }).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(unexpected(defect))),
        Effect.tapBoth({
          onSuccess: () => background ? recordBackgroundRefresh(undefined) : Effect.void,
          onFailure: (error) =>
            background ? Effect.zipRight(recordBackgroundRefresh(error), failed(error, true)) : failed(error, false)
        }),
        Effect.withSpan("CairAuth.flight", {
          attributes: { "cair.client_id": options.clientId, "cair.background": background }
        }),
        Effect.annotateLogs("cair.client_id", options.clientId)
      )

    /**
     * Ends a flight for its callers. Only the scope's closing interrupts a flight: its callers get `Closed`, not an
     * interruption (nor a wait forever).
     */
    const settle = (deferred: TokenState.Flight, exit: Exit.Exit<CairAuth.AccessToken, CairAuthError>) =>
      Exit.isSuccess(exit)
        ? Deferred.done(deferred, exit)
        : Ref.update(state, (s) => s.flight === deferred ? { ...s, flight: undefined } : s).pipe(
          Effect.zipRight(
            Exit.isInterrupted(exit) ? Deferred.fail(deferred, closedError()) : Deferred.done(deferred, exit)
          )
        )

    /**
     * The fork starts uninterruptible (as `demand` runs), so `settle` is in place before the flight can be
     * interrupted: a flight forked into a closing scope is interrupted before its first step, and left its
     * callers waiting forever when `settle` was inside it.
     */
    const startFlight = (s: TokenState.State, fiberId: FiberId.FiberId, background: boolean) => {
      const deferred = Deferred.unsafeMake<CairAuth.AccessToken, CairAuthError>(fiberId)
      const fork = Effect.forkIn(
        Effect.onExit(Effect.interruptible(flight(background)), (exit) => settle(deferred, exit)),
        scope
      )
      return [deferred, fork, { ...s, flight: deferred }] as const
    }

    /** A caller waiting for a token request: counted once it has the token (or the error). */
    const wait = (flight: TokenState.Flight): Effect.Effect<CairAuth.AccessToken, CairAuthError> =>
      Effect.onExit(Deferred.await(flight), (exit) =>
        Exit.isSuccess(exit)
          ? Effect.clockWith((clock) => Effect.sync(() => reads.waited(exit.value, readNow(clock))))
          : Exit.isInterrupted(exit)
          ? Effect.void
          : Effect.sync(reads.failed))

    /**
     * The slow path: `TokenState.decide`, atomically with what it decides (hand out the token and perhaps start
     * a background refresh, join the request under way, fail with the last error, wait out a rest, or start a
     * request). `force` (a forced refresh) never gets the current token, but obeys a rest like any caller.
     */
    const demand = (force: boolean): Effect.Effect<CairAuth.AccessToken, CairAuthError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.zip(now, Effect.fiberId), ([at, fiberId]) =>
          Effect.flatten(
            Ref.modify(state, (s): [Effect.Effect<CairAuth.AccessToken, CairAuthError>, TokenState.State] => {
              if (closed) return [Effect.fail(closedError()), s]
              const decision = TokenState.decide(s, at, force)
              switch (decision._tag) {
                case "Serve": {
                  reads.cached(decision.token, at)
                  if (!decision.refresh) {
                    return [Effect.succeed(decision.token), s]
                  }
                  const [, fork, next] = startFlight(s, fiberId, true)
                  return [
                    Effect.logDebug("Cair token: in its refresh window, refreshing in the background").pipe(
                      Effect.zipRight(fork),
                      Effect.as(decision.token)
                    ),
                    next
                  ]
                }
                case "Join":
                  return [
                    Effect.zipRight(
                      Effect.logDebug("Cair token: joining the request under way"),
                      restore(wait(decision.flight))
                    ),
                    s
                  ]
                case "Fail":
                  reads.failed()
                  return [Effect.fail(decision.error), s]
                case "Wait":
                  return [
                    restore(Effect.zipRight(Effect.sleep(decision.millis), Effect.suspend(() => demand(force)))),
                    s
                  ]
                case "Start": {
                  const [deferred, fork, next] = startFlight(s, fiberId, false)
                  return [
                    Effect.logDebug(startReason[decision.reason]).pipe(
                      Effect.zipRight(fork),
                      Effect.zipRight(restore(wait(deferred)))
                    ),
                    next
                  ]
                }
              }
            })
          ))
      )
    const acquire = demand(false)
    const refresh = demand(true)

    /**
     * The hot path: one `Ref` read, one reading of both clocks, `decide` (which allocates nothing while the
     * token is fresh and the clocks agree) and one count. `select` picks what the caller wants in the same step,
     * so `accessToken` costs no more than `get`. Anything but a plain hand-out goes through `demand`, which
     * decides again atomically.
     */
    const read = <A>(select: (token: CairAuth.AccessToken) => A): Effect.Effect<A, CairAuthError> =>
      Effect.flatMap(Ref.get(state), (s) =>
        Effect.clockWith((clock) => {
          const at = readNow(clock)
          const decision = TokenState.decide(s, at)
          if (decision._tag === "Serve" && !decision.refresh && !closed) {
            reads.cached(decision.token, at)
            return Effect.succeed(select(decision.token))
          }
          return Effect.map(acquire, select)
        }))

    /** Invalidates the entry if it matches; `fleet`: and tells the other processes sharing the store. */
    const invalidateWhere = (matches: (entry: TokenState.Entry) => boolean, fleet = true) =>
      Effect.flatten(Ref.modify(state, (s): [Effect.Effect<void>, TokenState.State] => {
        const entry = s.entry
        if (entry === undefined || TokenState.isInvalidated(entry) || !matches(entry)) {
          return [Effect.void, s]
        }
        const generation = entry.view.generation
        return [
          Effect.logDebug(`Cair token: generation ${generation} invalidated`).pipe(
            Effect.zipRight(Effect.sync(() => recordInvalidation(1))),
            Effect.zipRight(publish(TokenEvent.Invalidated({ generation }))),
            Effect.zipRight(fleet ? sharing.invalidated(entry.issued.tokens) : Effect.void)
          ),
          { ...s, entry: TokenState.invalidated(entry) }
        ]
      }))
    // Another process was refused the shared token: stop sending it too (the next caller gets the fleet's next).
    yield* sharing.watch((tokens) => invalidateWhere((entry) => entry.issued.tokens === tokens, false))

    const rejected = (token: Redacted.Redacted<string> | CairAuth.AccessToken): Effect.Effect<boolean> =>
      Effect.flatten(Effect.clockWith((clock) => {
        const at = readNow(clock)
        return Ref.modify(state, (s): [Effect.Effect<boolean>, TokenState.State] => {
          // A token that is not the current one is of an older generation: the 401 is late.
          const generation = s.entry !== undefined && sameToken(s.entry, token) ? s.entry.view.generation : -1
          const result = TokenState.rejected(s, generation, at)
          if (result.invalidated) record401Invalidation(1)
          if (!result.retry) recordRenewalRefused(1)
          if (!result.invalidated) return [Effect.succeed(result.retry), s]
          const invalidation = Effect.logDebug(`Cair API answered 401 to token generation ${generation}`).pipe(
            Effect.zipRight(publish(TokenEvent.Invalidated({ generation }))),
            // The fleet shares the token: tell every process (compare-and-set: only if it is still the shared one).
            Effect.zipRight(s.entry === undefined ? Effect.void : sharing.invalidated(s.entry.issued.tokens))
          )
          const rest = result.rest
          if (rest === undefined) return [Effect.as(invalidation, true), result.state]
          const rejections = result.state.rejections
          const report = Effect.logWithLevel(
            // One warning for a run of rejections: the longer rests after it are debug lines.
            rejections === 2 ? LogLevel.Warning : LogLevel.Debug,
            `Cair API rejected ${rejections} freshly issued tokens in a row (HTTP 401): no new token before ` +
              `${iso(at.wall + rest.forMs)}, and the 401 responses are returned meanwhile. Likely causes: the ` +
              "client lacks the scope or role this API requires, the token's audience is another API or " +
              "environment (check the base URL), or the API's clock disagrees with the token's times."
          ).pipe(Effect.annotateLogs("cair.client_id", options.clientId))
          return [invalidation.pipe(Effect.zipRight(report), Effect.as(false)), result.state]
        })
      }))

    return tag.of({
      baseUrl: endpoint.baseUrl,
      get: read(identity),
      accessToken: read((token) => token.token),
      tokenSet: read((token) => token.tokenSet),
      refresh,
      invalidate: invalidateWhere(() => true),
      invalidateToken: (token) => invalidateWhere((entry) => sameToken(entry, token)),
      rejected,
      events
    })
  })

/** @internal */
export type MakeRequirements = TokenEndpoint | TokenStore | Scope.Scope
