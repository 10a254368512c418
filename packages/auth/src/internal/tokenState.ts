import type * as Deferred from "effect/Deferred"
import type * as CairAuth from "../CairAuth.js"
import type { CairAuthError } from "../CairAuthError.js"
import type { IssuedTokenSet } from "../TokenEndpoint.js"
import type { Deadlines } from "./lifetime.js"

/*
 * The state machine of the token cache as plain data and pure functions: `decide` says what a caller gets, the
 * transitions say what an outcome changes. `internal/cairAuth.ts` runs it in one `Ref`.
 *
 * Time is read on two clocks. The wall clock (`Clock.currentTimeMillis`, `Date.now()` live) can step back or
 * forward (NTP, a VM migrated) and goes on while a machine sleeps; the monotonic clock
 * (`Clock.currentTimeNanos`, `process.hrtime` live) never steps, but stops while a machine sleeps. A token
 * arrives with a reading of both, and its deadlines are durations from that moment: its age is the time
 * passed since on whichever clock says more, so the clock that leaves it less life wins. A stepped wall
 * clock, a paused process and a suspended machine each end a token on time.
 */

/** @internal */
export type Flight = Deferred.Deferred<CairAuth.AccessToken, CairAuthError>

/**
 * A reading of both clocks in milliseconds: `wall` since the epoch, `mono` from any origin.
 *
 * @internal
 */
export interface Now {
  readonly wall: number
  readonly mono: number
}

/**
 * The time passed from `since` to `now` on whichever clock says more. The wall clock has a resolution of a
 * millisecond, so the monotonic clock counts only when it is more than that ahead (and then to the nearest
 * millisecond): when nothing happened the two agree, and the wall clock's reading is the age.
 *
 * @internal
 */
export const age = (since: Now, now: Now): number => {
  const wallAge = now.wall - since.wall
  const monoAge = now.mono - since.mono
  return monoAge > wallAge + 1 ? Math.round(monoAge) : wallAge
}

/** @internal */
export interface Serve {
  readonly _tag: "Serve"
  readonly token: CairAuth.AccessToken
  /** The token is in its refresh window and nothing is under way or resting: start a background refresh. */
  readonly refresh: boolean
}

/**
 * What a caller gets:
 *
 * - `Serve`: the token, with its deadlines on the wall clock as of now.
 * - `Join`: the request under way.
 * - `Fail`: the last error, at once: the endpoint rests after a failure.
 * - `Wait`: the endpoint rests without an error to give (the renewals rest after rejected tokens, and the
 *   token served meanwhile ended): wait, then ask again.
 * - `Start`: start a request.
 *
 * @internal
 */
export type Decision =
  | Serve
  | { readonly _tag: "Join"; readonly flight: Flight }
  | { readonly _tag: "Fail"; readonly error: CairAuthError }
  | { readonly _tag: "Wait"; readonly millis: number }
  | { readonly _tag: "Start"; readonly reason: "forced" | "none" | "expired" }

/**
 * A token set in the cache. The deadlines are durations from `at`, the clocks' readings when it arrived;
 * `view` has them on the wall clock as read then, the answer while the clocks stay in step.
 *
 * @internal
 */
export interface Entry {
  readonly issued: IssuedTokenSet
  readonly at: Now
  readonly usableFor: number
  readonly refreshIn: number
  /**
   * The token set whose refresh token the next cycle sends, and for how long from `at` it may: `issued`, or a
   * set that arrived expired while this one was still in service (the server rotated the refresh token).
   */
  readonly renewal: IssuedTokenSet
  readonly refreshTokenUsableFor: number
  readonly view: CairAuth.AccessToken
  /** The two answers while the clocks agree, made once: the hot path allocates nothing. */
  readonly serve: Serve
  readonly serveAndRefresh: Serve
}

/**
 * After a failed cycle (a token set expired on arrival is one) or rejected fresh tokens no request starts for `forMs` from `at`, on
 * the monotonic clock: a wall clock that steps cannot shorten a rest (nor lengthen it).
 *
 * @internal
 */
export interface Rest {
  readonly at: Now
  readonly forMs: number
  readonly error: CairAuthError | undefined
}

/**
 * The API answered 401 to the token of `generation`; `retry` says whether a request it rejected may be sent
 * again with a new token (false while the renewals it caused rest).
 *
 * @internal
 */
export interface Rejection {
  readonly generation: number
  readonly retry: boolean
}

/**
 * The whole state of the cache:
 *
 * - `entry`: the latest token set (possibly past its life, or invalidated: its refresh token is still useful).
 * - `flight`: the one token request under way, which every waiting caller shares.
 * - `failures`: failed cycles in a row, which lengthen the rests.
 * - `rest`: the rest under way, if any.
 * - `rejections`: freshly issued tokens the API rejected in a row (see `rejected`), which lengthen the rests
 *   after a rejection; `rejection`: the entry's rejection, if the API rejected it.
 *
 * @internal
 */
export interface State {
  readonly entry: Entry | undefined
  readonly flight: Flight | undefined
  readonly failures: number
  readonly rest: Rest | undefined
  readonly rejections: number
  readonly rejection: Rejection | undefined
}

/** @internal */
export const initial = (entry: Entry | undefined): State => ({
  entry,
  flight: undefined,
  failures: 0,
  rest: undefined,
  rejections: 0,
  rejection: undefined
})

/** The first rest after a failed cycle; it doubles with each failure in a row, up to `maxRestMs`. */
const baseRestMs = 1_000
/** @internal */
export const maxRestMs = 30_000
/**
 * A `Retry-After` is honoured up to this long. A server asking for more is rested for this long: a header
 * must not stop a client for years after the server recovered.
 *
 * @internal
 */
export const maxRetryAfterMs = 5 * 60_000

/** @internal */
export const restMs = (failures: number, retryAfterMs: number | undefined): number =>
  Math.max(
    Math.min(retryAfterMs ?? 0, maxRetryAfterMs),
    Math.min(baseRestMs * 2 ** Math.max(0, failures - 1), maxRestMs)
  )

/**
 * How long of the rest is left, on the monotonic clock alone: a wall clock stepping forward (NTP at boot, a VM
 * resumed, a clock stepped again and again) must not cut it short, which "whichever clock says more" did. A
 * suspended machine lengthens a rest by its sleep, never beyond the caps in monotonic time.
 */
const restLeft = (rest: Rest, now: Now): number => rest.forMs - (now.mono - rest.at.mono)

const resting = (rest: Rest | undefined, now: Now): boolean => rest !== undefined && restLeft(rest, now) > 0

/** @internal */
export const generation = (state: State): number => state.entry?.view.generation ?? 0

const shifted = (view: CairAuth.AccessToken, shift: number): CairAuth.AccessToken => ({
  ...view,
  expiresAt: view.expiresAt + shift,
  usableUntil: view.usableUntil + shift,
  refreshAt: view.refreshAt + shift
})

/**
 * What a caller gets now. `force` (a forced refresh) never gets the current token, but joins the request under
 * way and obeys a rest like any other caller.
 *
 * A token served has its deadlines on the wall clock as of now: `min(wall deadline, wall now + what the
 * monotonic clock says remains)`. After a wall clock stepped back they are earlier than when the token
 * arrived, so a reader that checks them with one wall-clock read (the Promise adapter) needs nothing else.
 *
 * @internal
 */
export const decide = (state: State, now: Now, force = false): Decision => {
  const entry = state.entry
  if (!force && entry !== undefined) {
    const tokenAge = age(entry.at, now)
    if (tokenAge < entry.usableFor) {
      const refresh = tokenAge >= entry.refreshIn && state.flight === undefined && !resting(state.rest, now)
      const shift = now.wall - entry.at.wall - tokenAge
      if (shift === 0) return refresh ? entry.serveAndRefresh : entry.serve
      return { _tag: "Serve", token: shifted(entry.view, shift), refresh }
    }
  }
  if (state.flight !== undefined) return { _tag: "Join", flight: state.flight }
  const rest = state.rest
  if (rest !== undefined) {
    const left = restLeft(rest, now)
    if (left > 0) return rest.error !== undefined ? { _tag: "Fail", error: rest.error } : { _tag: "Wait", millis: left }
  }
  return { _tag: "Start", reason: force ? "forced" : entry === undefined ? "none" : "expired" }
}

/** Whether the refresh token of the entry may still be sent. @internal */
export const refreshTokenUsable = (entry: Entry, now: Now): boolean => age(entry.at, now) < entry.refreshTokenUsableFor

const makeEntry = (
  issued: IssuedTokenSet,
  at: Now,
  generation: number,
  expiresAt: number,
  usableFor: number,
  refreshIn: number,
  refreshTokenUsableFor: number,
  renewal: IssuedTokenSet = issued
): Entry => {
  const view: CairAuth.AccessToken = {
    token: issued.tokens.accessToken,
    generation,
    expiresAt,
    usableUntil: at.wall + usableFor,
    refreshAt: at.wall + refreshIn,
    tokenSet: issued.tokens
  }
  return {
    issued,
    at,
    usableFor,
    refreshIn,
    renewal,
    refreshTokenUsableFor,
    view,
    serve: { _tag: "Serve", token: view, refresh: false },
    serveAndRefresh: { _tag: "Serve", token: view, refresh: true }
  }
}

/**
 * An entry for a token set, its wall-clock deadlines turned into durations from `now`.
 *
 * @internal
 */
export const entry = (issued: IssuedTokenSet, deadlines: Deadlines, generation: number, now: Now): Entry =>
  makeEntry(
    issued,
    now,
    generation,
    deadlines.expiresAt,
    deadlines.usableUntil - now.wall,
    deadlines.refreshAt - now.wall,
    deadlines.refreshTokenUsableUntil - now.wall
  )

/**
 * A token set arrived. Usable, it becomes the entry, with the next generation, and the flight is over.
 *
 * One that had already expired on arrival (by both clocks and the server's `Date`) is never handed out: the
 * cycle fails (the caller reports it through `failed`, which ends the flight and starts the rest, growing and
 * capped as after any failure), and until then the callers join the flight and get that error. Its refresh
 * token is kept for the next cycle: as the entry (invalidated, so that its access token is never served), or,
 * when the current entry is still usable (a background refresh brought the expired set), as the refresh token of
 * the current entry, whose access token stays in service until its own end.
 *
 * @internal
 */
export const arrived = (
  state: State,
  issued: IssuedTokenSet,
  deadlines: Deadlines,
  now: Now
):
  | { readonly state: State; readonly entry: Entry; readonly expiredOnArrival: false }
  | { readonly state: State; readonly expiredOnArrival: true } =>
{
  const next = generation(state) + 1
  // A token set that replaces a rejected token continues the run of rejections: if it is rejected at once too,
  // the renewals rest.
  const rejections = state.entry !== undefined && state.rejection?.generation === state.entry.view.generation
    ? state.rejections
    : 0
  if (deadlines.usableUntil > now.wall) {
    const fresh = entry(issued, deadlines, next, now)
    return { state: { ...initial(fresh), rejections }, entry: fresh, expiredOnArrival: false }
  }
  const current = state.entry
  const currentAge = current === undefined ? 0 : age(current.at, now)
  if (current !== undefined && currentAge < current.usableFor) {
    // The current token stays in service; the next cycle sends the refresh token that replaced its own.
    const kept = makeEntry(
      current.issued,
      current.at,
      current.view.generation,
      current.view.expiresAt,
      current.usableFor,
      current.refreshIn,
      currentAge + deadlines.refreshTokenUsableUntil - now.wall,
      issued
    )
    return { state: { ...state, entry: kept }, expiredOnArrival: true }
  }
  const spent = invalidated(entry(issued, deadlines, next, now))
  return { state: { ...state, entry: spent, rejections, rejection: undefined }, expiredOnArrival: true }
}

/**
 * A cycle failed: the flight is over and the endpoint rests; callers without a token get `error` meanwhile.
 *
 * @internal
 */
export const failed = (
  state: State,
  error: CairAuthError,
  retryAfterMs: number | undefined,
  now: Now
): { readonly state: State; readonly rest: Rest } => {
  const failures = state.failures + 1
  const rest: Rest = { at: now, forMs: restMs(failures, retryAfterMs), error }
  return { state: { ...state, flight: undefined, failures, rest }, rest }
}

/** @internal */
export const isInvalidated = (entry: Entry): boolean => entry.usableFor === -Infinity

/**
 * The entry's access token is never handed out again; its refresh token stays usable.
 *
 * @internal
 */
export const invalidated = (entry: Entry): Entry =>
  makeEntry(
    entry.issued,
    entry.at,
    entry.view.generation,
    entry.view.expiresAt,
    -Infinity,
    -Infinity,
    entry.refreshTokenUsableFor,
    entry.renewal
  )

/**
 * A token rejected by the API within this long of its arrival was "freshly issued": rejected at its first use,
 * it says more about the client (scope, audience, clock) than about the token.
 *
 * @internal
 */
export const freshMs = 60_000
/** The rest after the second fresh token rejected in a row; it doubles with each one more, up to the cap. */
const baseRejectionRestMs = 2_000
/** @internal */
export const maxRejectionRestMs = 60_000

/** @internal */
export const rejectionRestMs = (rejections: number): number =>
  Math.min(baseRejectionRestMs * 2 ** Math.max(0, rejections - 2), maxRejectionRestMs)

/**
 * The API answered 401 to a request sent with the token of `generation`:
 *
 * - the token of an older generation was replaced already: nothing changes, and a retry gets the new one;
 * - the current token: it is invalidated, exactly it, and a retry gets a new one, unless it is the second
 *   freshly issued token in a row to be rejected. Then the renewals rest (2 s, doubling with each further
 *   rejected fresh token, at most 60 s): the rejected token is still handed out until the rest ends, its
 *   requests get the API's 401, and no request is sent again; after the rest the next caller renews.
 *
 * `rest` is the rest this rejection started, if any.
 *
 * @internal
 */
export const rejected = (
  state: State,
  generation: number,
  now: Now
): {
  readonly state: State
  readonly retry: boolean
  readonly invalidated: boolean
  readonly rest: Rest | undefined
} => {
  const current = state.entry
  if (current === undefined || current.view.generation !== generation) {
    return { state, retry: true, invalidated: false, rest: undefined }
  }
  if (state.rejection?.generation === generation) {
    return { state, retry: state.rejection.retry, invalidated: false, rest: undefined }
  }
  const tokenAge = age(current.at, now)
  const rejections = tokenAge < freshMs ? state.rejections + 1 : 1
  if (rejections < 2) {
    return {
      state: { ...state, entry: invalidated(current), rejections, rejection: { generation, retry: true } },
      retry: true,
      invalidated: true,
      rest: undefined
    }
  }
  const forMs = rejectionRestMs(rejections)
  const rest: Rest = { at: now, forMs, error: undefined }
  const served = makeEntry(
    current.issued,
    current.at,
    generation,
    current.view.expiresAt,
    Math.min(current.usableFor, tokenAge + forMs),
    Math.min(current.usableFor, tokenAge + forMs),
    current.refreshTokenUsableFor,
    current.renewal
  )
  return {
    state: { ...state, entry: served, rest, rejections, rejection: { generation, retry: false } },
    retry: false,
    invalidated: true,
    rest
  }
}
