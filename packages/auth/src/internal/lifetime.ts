import type { IssuedTokenSet } from "../TokenEndpoint.js"

/**
 * How far the local clock runs ahead of the server's (negative: behind), from the `Date` header.
 *
 * The header has a resolution of one second and was stamped somewhere between sending the request
 * and receiving the answer, so the true offset lies in `(sentAt - date - 1000, receivedAt - date]`.
 * When that interval holds 0 the clocks agree as far as can be told and nothing is corrected: a
 * short token's life is neither shortened nor stretched by the rounding. Otherwise the lower bound
 * is taken, the correction that can only make the token expire earlier locally, never later.
 *
 * @internal
 */
export const clockOffset = (issued: Pick<IssuedTokenSet, "sentAt" | "receivedAt" | "serverDate">): number => {
  if (issued.serverDate === undefined) return 0
  const lower = issued.sentAt - issued.serverDate - 1000
  const upper = issued.receivedAt - issued.serverDate
  return lower < 0 && upper >= 0 ? 0 : lower
}

/** @internal */
export interface LifetimeOptions {
  readonly refreshWindowMs: number
  readonly expiryMarginMs: number
}

/**
 * The local deadlines of a token, in epoch milliseconds.
 *
 * - `expiresAt`: when the server's clock says it expires, on the local clock.
 * - `usableUntil`: after this it is not handed out (a request made with it could arrive late).
 * - `refreshAt`: from this on a caller triggers a refresh in the background.
 *
 * The margin and the window shrink for short-lived tokens (at most a tenth and a half of the
 * lifetime), so a token living 10 seconds is still served for most of its life.
 *
 * @internal
 */
export interface Deadlines {
  readonly expiresAt: number
  readonly usableUntil: number
  readonly refreshAt: number
  readonly refreshTokenUsableUntil: number
}

/** @internal */
export const deadlines = (issued: IssuedTokenSet, options: LifetimeOptions): Deadlines => {
  const offset = clockOffset(issued)
  const expiresAt = issued.tokens.expiresAt.getTime() + offset
  const lifetime = Math.max(0, expiresAt - issued.receivedAt)
  const margin = Math.min(options.expiryMarginMs, lifetime / 10)
  const window = Math.min(options.refreshWindowMs, lifetime / 2)
  const usableUntil = expiresAt - margin
  return {
    expiresAt,
    usableUntil,
    refreshAt: Math.min(usableUntil, expiresAt - window),
    refreshTokenUsableUntil: issued.tokens.refreshTokenExpiresAt.getTime() + offset - margin
  }
}
