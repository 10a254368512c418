import type { IssuedTokenSet } from "../TokenEndpoint.js"

/** @internal */
export const defaultRefreshWindowMs = 60_000
/** @internal */
export const defaultExpiryMarginMs = 5_000

/**
 * The furthest the server's `Date` header may move the local clock, either way. A day covers any clock set in
 * the wrong time zone (up to 14 h) and any drift; a `Date` further off is a broken header or a broken clock.
 *
 * @internal
 */
export const maxClockCorrectionMs = 24 * 3_600_000

/**
 * Where the local clock stands against the server's, from the `Date` header.
 *
 * The header has a resolution of one second and was stamped somewhere between sending the request and
 * receiving the answer, so the true offset (how far the local clock runs ahead) lies in
 * `(sentAt - date - 1000, receivedAt - date]`. When that interval holds 0 the clocks agree as far as can be
 * told and nothing is corrected: a short token's life is neither shortened nor stretched by the rounding.
 * Otherwise the lower bound is the offset, the correction that can only make the token expire earlier
 * locally, never later.
 *
 * - `Agree`: no `Date`, or one that agrees with the local clock.
 * - `Corrected`: the offset is within `maxClockCorrectionMs`.
 * - `Beyond`: even the offset nearest to zero is further than that: neither clock can be trusted over the
 *   other, and a token gets the shorter of its lives on the two clocks.
 *
 * @internal
 */
export type ClockOffset =
  | { readonly _tag: "Agree" }
  | { readonly _tag: "Corrected"; readonly offsetMs: number }
  | { readonly _tag: "Beyond"; readonly offsetMs: number; readonly serverDate: number }

/** @internal */
export const clockOffset = (issued: Pick<IssuedTokenSet, "sentAt" | "receivedAt" | "serverDate">): ClockOffset => {
  if (issued.serverDate === undefined) return { _tag: "Agree" }
  const lower = issued.sentAt - issued.serverDate - 1000
  const upper = issued.receivedAt - issued.serverDate
  if (lower < 0 && upper >= 0) return { _tag: "Agree" }
  const nearest = lower >= 0 ? lower : -upper
  return nearest <= maxClockCorrectionMs
    ? { _tag: "Corrected", offsetMs: lower }
    : { _tag: "Beyond", offsetMs: lower, serverDate: issued.serverDate }
}

/**
 * The refresh window and the expiry margin as the user gave them: `undefined` is the default, which scales
 * down for short-lived tokens; a number given is used as it is.
 *
 * @internal
 */
export interface LifetimeOptions {
  readonly refreshWindowMs: number | undefined
  readonly expiryMarginMs: number | undefined
}

/**
 * The deadlines of a token on the local wall clock, in epoch milliseconds, from the token set alone:
 *
 * - `expiresAt`: when it expires, the server's clock corrected to the local one (within the bound).
 * - `usableUntil`: after this it is not handed out (a request made with it could arrive late).
 * - `refreshAt`: from this on a caller triggers a refresh in the background.
 * - `refreshTokenUsableUntil`: after this the refresh token is not sent; the credentials are.
 * - `warnings`: what the user should know: an option clamped for this token, a `Date` beyond the bound.
 *
 * The default margin and window shrink for short-lived tokens (at most a tenth and a half of the lifetime), so
 * a token living 10 seconds is still served for most of its life. A margin or window the user gave is used as
 * given, unless it leaves the token no life at all: a margin of the whole lifetime or more (never served), a
 * window of the whole lifetime or more (refreshed the moment it arrives). Those are clamped to what the
 * default would use, with a warning naming the option.
 *
 * @internal
 */
export interface Deadlines {
  readonly expiresAt: number
  readonly usableUntil: number
  readonly refreshAt: number
  readonly refreshTokenUsableUntil: number
  readonly warnings: ReadonlyArray<string>
}

const clamped = (option: string, given: number, lifetime: number, used: number) =>
  `${option} ${given} ms leaves no life to a token living ${Math.round(lifetime)} ms; ` +
  `using ${Math.round(used)} ms for this token`

const span = (ms: number) => {
  const abs = Math.abs(ms)
  return abs >= 2 * 86_400_000 ? `${Math.round(abs / 86_400_000)} days` : `${Math.round(abs / 360_000) / 10} h`
}

/** The range of a `Date`: a deadline outside it could not be shown. */
const maxDateMs = 8.64e15
const inDateRange = (ms: number) => Math.min(Math.max(ms, -maxDateMs), maxDateMs)

/**
 * `adopted`: the token set comes from a shared store, corrected by its writer's `Date` for the writer's clock,
 * which may not be this one (a writer 1 h ahead would have this process serve it 1 h past its end). It gets the
 * shorter of its lives, writer-corrected or uncorrected on this clock, as beyond the bound: never later than the
 * truth if this clock is right or is the writer's (pods on one host). Its lifetime (for the margin and window) is
 * the writer-corrected one, the true one.
 *
 * @internal
 */
export const deadlines = (issued: IssuedTokenSet, options: LifetimeOptions, adopted = false): Deadlines => {
  const warnings: Array<string> = []
  const offset = clockOffset(issued)
  // Beyond the bound, the shorter life: `expiresAt` on the local clock, or corrected, whichever is earlier.
  const shift = offset._tag === "Agree"
    ? 0
    : offset._tag === "Corrected"
    ? offset.offsetMs
    : Math.min(0, offset.offsetMs)
  if (offset._tag === "Beyond") {
    warnings.push(
      `the server's Date header (${new Date(offset.serverDate).toISOString()}) is ${span(offset.offsetMs)} ` +
        `${offset.offsetMs > 0 ? "behind" : "ahead of"} the local clock, beyond the ${span(maxClockCorrectionMs)} ` +
        "it may correct; using the shorter of the token's lifetimes on the two clocks"
    )
  }
  const placed = adopted ? Math.min(0, shift) : shift
  const expiresAt = inDateRange(issued.tokens.expiresAt.getTime() + placed)
  const lifetime = Math.max(0, inDateRange(issued.tokens.expiresAt.getTime() + shift) - issued.receivedAt)

  let margin = Math.min(defaultExpiryMarginMs, lifetime / 10)
  if (options.expiryMarginMs !== undefined) {
    margin = options.expiryMarginMs
    if (lifetime > 0 && margin >= lifetime) {
      margin = lifetime / 10
      warnings.push(clamped("expiryMarginMs", options.expiryMarginMs, lifetime, margin))
    }
  }
  let window = Math.min(defaultRefreshWindowMs, lifetime / 2)
  if (options.refreshWindowMs !== undefined) {
    window = options.refreshWindowMs
    if (lifetime > 0 && window >= lifetime) {
      window = lifetime / 2
      warnings.push(clamped("refreshWindowMs", options.refreshWindowMs, lifetime, window))
    }
  }
  const usableUntil = expiresAt - margin
  return {
    expiresAt,
    usableUntil,
    refreshAt: Math.min(usableUntil, expiresAt - window),
    refreshTokenUsableUntil: inDateRange(issued.tokens.refreshTokenExpiresAt.getTime() + placed) - margin,
    warnings
  }
}
