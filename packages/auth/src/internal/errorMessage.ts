import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Predicate from "effect/Predicate"

/** Collapses line breaks and runs of spaces: a multi-line message becomes one line. */
const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

/** What `Config.redacted` leaves of a message. */
const redacted = "<redacted>"

const configLine = (path: ReadonlyArray<string>, what: string, message: string): string => {
  const name = path.join("_")
  // Our own config messages already name the variable and say what it is for.
  if (name === "" || message.startsWith(name)) return oneLine(message)
  if (message === redacted) return `${name} ${what}`
  if (what === "is not set" && /to exist in the/.test(message)) return `${name} is not set`
  return oneLine(`${name} ${what}: ${message}`)
}

const configLines = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configLines(error.left), ...configLines(error.right)]
    case "MissingData":
      return [configLine(error.path, "is not set", error.message)]
    case "InvalidData":
      return [configLine(error.path, "is invalid", error.message)]
    case "SourceUnavailable":
      return [configLine(error.path, "could not be read", error.message)]
    case "Unsupported":
      return [configLine(error.path, "is not supported", error.message)]
  }
}

const baseUrlHint = "is the base URL (CAIR_BASE_URL) the Cair API?"

/** What to do about a failure, by `_tag`, where its message does not say it already. */
const hint = (error: { readonly _tag: string } & Record<string, unknown>): string | undefined => {
  switch (error._tag) {
    case "TokenRequestFailed": {
      const status = typeof error["status"] === "number" ? error["status"] : undefined
      switch (error["reason"]) {
        case "Transport":
          return "is the base URL (CAIR_BASE_URL) right, and can this machine reach it?"
        case "Timeout":
          return "the server did not answer in time: check the network, or raise requestTimeoutMs"
        case "Redirected":
          return "the token endpoint redirected: is the base URL (CAIR_BASE_URL) the Cair API's own origin?"
        case "ExpiredOnArrival":
          return "check this machine's clock (NTP) and the server's Date header"
        case "Closed":
          return "a call was made after the service was closed: build a new one"
        default:
          return status !== undefined && status !== 408 && status !== 429 && status < 500
            ? baseUrlHint
            : "the Cair API is unavailable and the retries ran out: try again later"
      }
    }
    case "MalformedTokenResponse":
      return baseUrlHint
    case "ClientClosed":
      return "a call was made after close(): create a new client"
    default:
      return undefined
  }
}

/** @internal */
export const format = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) return [...new Set(configLines(error))].join("; ")
  const message = Predicate.hasProperty(error, "message") && typeof error.message === "string"
    ? oneLine(error.message)
    : oneLine(String(error))
  if (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string") {
    const tagged = error as { readonly _tag: string } & Record<string, unknown>
    const advice = hint(tagged)
    return `${tagged._tag}: ${message}${advice === undefined ? "" : ` (${advice})`}`
  }
  return message
}

/** @internal */
export const formatCause = (cause: Cause.Cause<unknown>): string =>
  Cause.isInterruptedOnly(cause) ? "interrupted" : format(Cause.squash(cause))
