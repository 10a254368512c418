import * as Option from "effect/Option"

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/** The first value of the header: delta-seconds, or an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`). */
const deltaSeconds = /^(\d+)\s*(?:,|$)/
const imfFixdate =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT\s*(?:,|$)/

/** An IMF-fixdate's instant, or `undefined` for a day, hour or minute that does not exist (`30 Feb`, `25:00`). */
const fixdate = (match: RegExpExecArray): number | undefined => {
  const [day, month, year, hour, minute, second] = [
    Number(match[1]),
    months.indexOf(match[2]!),
    Number(match[3]),
    Number(match[4]),
    Number(match[5]),
    Number(match[6])
  ]
  const date = new Date(Date.UTC(year, month, day, hour, minute, Math.min(second, 59)))
  return date.getUTCDate() === day && hour <= 23 && minute <= 59 && second <= 60 ? date.getTime() : undefined
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delta-seconds or an HTTP date in the IMF-fixdate form, the
 * first value of a list (two headers joined, `10, 10`, by a proxy and the origin). Anything else is ignored:
 * `Date.parse` read `10, 10` as 10 October 2001, a wait of 0. Answers the delay in milliseconds from `now`, never
 * negative; `None` when the header is absent or unreadable. An HTTP date is on the server's clock, so `now` should
 * be the server's time (its `Date` header, when within the bound of a correction). The delay is what the server
 * asked for, however long, but always a finite number: honouring it is bounded elsewhere (`maxRetryDelayMs`
 * within a cycle, `maxRetryAfterMs` for a rest).
 *
 * @internal
 */
export const parseRetryAfter = (header: string | undefined, now: number): Option.Option<number> => {
  if (header === undefined) return Option.none()
  const value = header.trim()
  const seconds = deltaSeconds.exec(value)
  if (seconds !== null) return Option.some(Math.min(Number(seconds[1]) * 1000, Number.MAX_SAFE_INTEGER))
  const match = imfFixdate.exec(value)
  const date = match === null ? undefined : fixdate(match)
  return date === undefined ? Option.none() : Option.some(Math.max(0, date - now))
}
