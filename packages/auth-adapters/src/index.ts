/**
 * `@cair/auth-adapters`: the bearer token of the Cair Health API behind a Promise API, for Node code that does not
 * use Effect, from ESM (`import`) or CommonJS (`require`).
 *
 * @since 0.1.0
 */
import { CairAuthError, ErrorMessage } from "@cair/auth"

/**
 * @since 0.1.0
 */
export { ClientClosed, createCairAuthClient } from "./CairAuthClient.js"

/**
 * @since 0.1.0
 */
export type {
  CairAuthClient,
  CairAuthClientError,
  CairAuthClientOptions,
  CairAuthFailure,
  CallOptions,
  MeterProvider,
  RefreshTokenRejected,
  TokenEvent
} from "./CairAuthClient.js"

/**
 * The class of one of the errors: `instanceof` checks it, `new` makes one (in a test double, for instance).
 *
 * @example
 * ```ts
 * import { InvalidCredentials, type ErrorClass } from "@cair/auth-adapters"
 *
 * const classes: ReadonlyArray<ErrorClass<Error, never>> = [InvalidCredentials]
 * const isOurs = (error: unknown) => classes.some((errorClass) => error instanceof errorClass)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export interface ErrorClass<E, Fields> {
  new(fields: Fields): E
  readonly prototype: E
}

/**
 * The token endpoint rejected the client id or secret (HTTP 401 or 403): fix the configuration, retrying does not help.
 * `error.clientId` and `error.status` say which client and what the server answered.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, InvalidCredentials } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: "not-the-secret" })
 * try {
 *   await auth.getAccessToken()
 * } catch (error) {
 *   if (error instanceof InvalidCredentials) {
 *     console.error(`Check CAIR_CLIENT_SECRET for client ${error.clientId} (HTTP ${error.status})`)
 *   }
 * } finally {
 *   await auth.close()
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidCredentials: ErrorClass<
  InvalidCredentials,
  { readonly clientId: string; readonly status: number }
> = CairAuthError.InvalidCredentials

/**
 * An instance of {@link InvalidCredentials}.
 *
 * @since 0.1.0
 * @category errors
 */
export interface InvalidCredentials extends Error {
  readonly _tag: "InvalidCredentials"
  readonly clientId: string
  readonly status: number
}

/**
 * Thrown by `createCairAuthClient` at once for unusable options: `error.option` names the option,
 * `error.description` says what is wrong with it. One case cannot be seen synchronously: a `redisUrl` whose package,
 * `@cair/auth-redis`, is not installed (or that it cannot parse) makes every call of the client reject with it.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, InvalidOptions } from "@cair/auth-adapters"
 *
 * try {
 *   createCairAuthClient({ clientId: "my-client", clientSecret: "not-a-real-secret", baseUrl: "http://api.example.com" })
 * } catch (error) {
 *   if (error instanceof InvalidOptions) console.error(`${error.option}: ${error.description}`) // http: is for loopback only
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidOptions: ErrorClass<InvalidOptions, { readonly option: string; readonly description: string }> =
  CairAuthError.InvalidOptions

/**
 * An instance of {@link InvalidOptions}.
 *
 * @since 0.1.0
 * @category errors
 */
export interface InvalidOptions extends Error {
  readonly _tag: "InvalidOptions"
  /** The name of the option. */
  readonly option: string
  /** What is wrong with it (never the value of a secret). */
  readonly description: string
}

/**
 * The token endpoint answered 2xx with a body that is not a token set. `error.problems` names the fields that are
 * missing or wrong, never their values.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, MalformedTokenResponse } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: "not-a-real-secret" })
 * try {
 *   await auth.getAccessToken()
 * } catch (error) {
 *   if (error instanceof MalformedTokenResponse) console.error(`${error.endpoint}: ${error.problems.join("; ")}`)
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const MalformedTokenResponse: ErrorClass<
  MalformedTokenResponse,
  { readonly endpoint: string; readonly status: number; readonly problems: ReadonlyArray<string> }
> = CairAuthError.MalformedTokenResponse

/**
 * An instance of {@link MalformedTokenResponse}.
 *
 * @since 0.1.0
 * @category errors
 */
export interface MalformedTokenResponse extends Error {
  readonly _tag: "MalformedTokenResponse"
  readonly endpoint: string
  readonly status: number
  /** The fields that are missing or wrong, never their values. */
  readonly problems: ReadonlyArray<string>
}

/**
 * A token request failed after the retries: `error.reason` is `"Transport"`, `"Timeout"`, `"Status"` (then
 * `error.status` is the HTTP status), `"Redirected"` (the answer came through a redirect the `fetch` followed by
 * itself: never used) or `"ExpiredOnArrival"` (the token set had already expired when it arrived: never handed
 * out); `error.retryAfterMs` is the server's `Retry-After`, and `error.isTransient` whether a later attempt may
 * succeed.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, TokenRequestFailed } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: "not-a-real-secret", maxRetries: 1 })
 * try {
 *   await auth.getAccessToken()
 * } catch (error) {
 *   if (error instanceof TokenRequestFailed && error.isTransient) {
 *     console.warn(`Cair is unavailable (${error.reason} ${error.status ?? ""}): try again later`)
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const TokenRequestFailed: ErrorClass<TokenRequestFailed, {
  readonly endpoint: string
  readonly reason: TokenRequestFailed["reason"]
  readonly status?: number | undefined
  readonly retryAfterMs?: number | undefined
  readonly description: string
}> = CairAuthError.TokenRequestFailed

/**
 * An instance of {@link TokenRequestFailed}.
 *
 * @since 0.1.0
 * @category errors
 */
export interface TokenRequestFailed extends Error {
  readonly _tag: "TokenRequestFailed"
  /** The URL of the token endpoint. */
  readonly endpoint: string
  /**
   * `"Transport"` (the connection failed), `"Timeout"` (no complete answer in time), `"Status"` (a non-2xx),
   * `"Redirected"` (an answer that came through a redirect the `fetch` followed by itself: never used),
   * `"ExpiredOnArrival"` (a token set that had already expired when it arrived: check the clocks) or `"Closed"`
   * (the core service was closed; the client's own calls after `close()` reject with `ClientClosed`).
   */
  readonly reason: "Transport" | "Timeout" | "Status" | "Redirected" | "ExpiredOnArrival" | "Closed"
  /** The HTTP status, for `reason: "Status"` (and the last hop's for `"Redirected"`). */
  readonly status?: number | undefined
  /** The server's `Retry-After`, in milliseconds. */
  readonly retryAfterMs?: number | undefined
  readonly description: string
  /** Whether a later attempt may succeed: transport failures, timeouts, 408, 429, 5xx and `"ExpiredOnArrival"`. */
  readonly isTransient: boolean
}

/**
 * `fetch` refused a URL before sending anything: it is not under `baseUrl`, the only place the token goes.
 * `error.reason` says which rule it breaks (`"OtherOrigin"`, `"NetworkPath"` for a leading `//`, `"Backslash"`,
 * `"ControlCharacter"`, `"DotSegment"`, `"EncodedSeparator"`, `"OutsideBasePath"`, `"UserInfo"`, `"NotAUrl"`);
 * the input itself is never repeated.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, UnsafeRequestUrl } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 * const memberId = "/evil.example/x" // from user input
 * try {
 *   await auth.fetch(`/${memberId}`)
 * } catch (error) {
 *   if (error instanceof UnsafeRequestUrl) console.warn(`refused: ${error.reason}`) // refused: NetworkPath
 * } finally {
 *   await auth.close()
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const UnsafeRequestUrl: ErrorClass<UnsafeRequestUrl, {
  readonly baseUrl: string
  readonly reason: UnsafeRequestUrl["reason"]
  readonly origin?: string | undefined
}> = CairAuthError.UnsafeRequestUrl

/**
 * An instance of {@link UnsafeRequestUrl}.
 *
 * @since 0.1.0
 * @category errors
 */
export interface UnsafeRequestUrl extends Error {
  readonly _tag: "UnsafeRequestUrl"
  /** The base URL: the only place the token goes. */
  readonly baseUrl: string
  /** Which rule the URL breaks. */
  readonly reason:
    | "OtherOrigin"
    | "OutsideBasePath"
    | "NetworkPath"
    | "Backslash"
    | "ControlCharacter"
    | "DotSegment"
    | "EncodedSeparator"
    | "UserInfo"
    | "NotAUrl"
  /** The other origin, for `reason: "OtherOrigin"`. */
  readonly origin?: string | undefined
}

/**
 * An error of a client, or any other, as one line of plain English with what to check where its message does not
 * say it: for a service's startup log or a script's exit, instead of a stack trace. Never holds a secret or a token.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, formatError } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET ?? "" })
 * try {
 *   await auth.getAccessToken()
 * } catch (error) {
 *   // e.g. "TokenRequestFailed: Token request to … failed: Transport: … (is the base URL (CAIR_BASE_URL) right, …)"
 *   console.error(formatError(error))
 *   process.exitCode = 1
 * } finally {
 *   await auth.close()
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const formatError: (error: unknown) => string = ErrorMessage.format
