/*
 * Header values out of error messages: fetch's message for an invalid header value prints the value, and a token
 * may show up in any message of a `cause` chain. Plain strings and `Error`s, without Effect or the platform, so that
 * the Promise adapter's `fetch`, which bundles the core, uses these and nothing more (`redaction.ts` builds the
 * redaction of requests, responses and `HttpClientError`s on them).
 */

/** @internal */
export const redacted = "<redacted>"

/**
 * fetch's `Headers` refuses a header value with a message that prints it whole: `Headers.append: "Bearer …\r\n" is
 * an invalid header value.`
 */
const invalidHeaderValue = /"[\s\S]*" is an invalid header value/g

/**
 * `message` without any header value: fetch's "invalid header value" message, and any of `values` (the token) it
 * holds, become `<redacted>`.
 *
 * @internal
 */
export const scrubMessage = (message: string, values: ReadonlyArray<string>): string => {
  let text = message.replace(invalidHeaderValue, `"${redacted}" is an invalid header value`)
  for (const value of values) {
    if (value !== "") text = text.split(value).join(redacted)
  }
  return text
}

/**
 * `cause` with every message of its `cause` chain scrubbed (see `scrubMessage`); an error that showed nothing
 * is kept as it is, one that did is replaced by a copy of the same class name, message scrubbed, `code` kept.
 *
 * @internal
 */
export const scrubCause = (cause: unknown, values: ReadonlyArray<string>, depth = 0): unknown => {
  if (!(cause instanceof Error) || depth > 8) return cause
  const message = scrubMessage(cause.message, values)
  const inner = scrubCause(cause.cause, values, depth + 1)
  if (message === cause.message && inner === cause.cause) return cause
  const copy = cause instanceof TypeError ? new TypeError(message) : new Error(message)
  copy.name = cause.name
  if (inner !== undefined) copy.cause = inner
  const code = (cause as { readonly code?: unknown }).code
  if (code !== undefined) Object.defineProperty(copy, "code", { value: code, enumerable: true })
  copy.stack = `${cause.name}: ${message}\n    (stack dropped: it repeated a header value)`
  return copy
}
