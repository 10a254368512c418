import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * An RFC 3339 `date-time` (the spec's `format: date-time`): a full date, a full time with optional fractions of a
 * second, and `Z` or a numeric offset, which RFC 3339 requires. Without an offset a time would be read in the
 * machine's time zone; `Date.parse` also takes `"5"` for May 2001.
 */
const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const leap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
const daysIn = (year: number, month: number) => month === 2 && leap(year) ? 29 : monthDays[month - 1]!

/**
 * Epoch milliseconds of an RFC 3339 date-time, or `undefined`. Fractions beyond the millisecond are dropped;
 * a leap second (`:60`) is the instant after `:59.999`, as on a POSIX clock.
 *
 * @internal
 */
export const parseDateTime = (text: string): number | undefined => {
  const match = rfc3339.exec(text)
  if (match === null) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const sign = match[8]
  const offsetHours = sign === undefined ? 0 : Number(match[9])
  const offsetMinutes = sign === undefined ? 0 : Number(match[10])
  if (
    month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 60 ||
    offsetHours > 23 || offsetMinutes > 59
  ) return undefined
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, match[7] === undefined ? 0 : Math.floor(Number(`0${match[7]}`) * 1000))
  const offsetMs = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return date.getTime() - offsetMs
}

/**
 * A `Date` from an RFC 3339 date-time string; encodes as ISO 8601 in UTC. A failure names no value: the
 * decoder's callers report the field alone.
 *
 * @internal
 */
export const DateTimeFromString: Schema.Schema<Date, string> = Schema.transformOrFail(
  Schema.String,
  Schema.ValidDateFromSelf,
  {
    strict: true,
    decode: (text, _, ast) => {
      const millis = parseDateTime(text)
      return millis === undefined
        ? ParseResult.fail(new ParseResult.Type(ast, text, "an RFC 3339 date-time with Z or a numeric offset"))
        : ParseResult.succeed(new Date(millis))
    },
    encode: (date) => ParseResult.succeed(date.toISOString())
  }
).annotations({ identifier: "DateTime" })
