import * as Option from "effect/Option"

/**
 * Reads a `Retry-After` header: a number of seconds or an HTTP date. Answers the delay in
 * milliseconds from `now`, never negative; `None` when the header is absent or unreadable.
 * An HTTP date is on the server's clock, so `now` should be the server's time (its `Date` header).
 * The delay is what the server asked for, however long, but always a finite number: honouring it is
 * bounded elsewhere (`maxRetryDelayMs` within a cycle, `maxRetryAfterMs` for a rest).
 *
 * @internal
 */
export const parseRetryAfter = (header: string | undefined, now: number): Option.Option<number> => {
  if (header === undefined) return Option.none()
  const value = header.trim()
  if (/^\d+$/.test(value)) return Option.some(Math.min(Number(value) * 1000, Number.MAX_SAFE_INTEGER))
  const date = Date.parse(value)
  return Number.isNaN(date) ? Option.none() : Option.some(Math.max(0, date - now))
}
