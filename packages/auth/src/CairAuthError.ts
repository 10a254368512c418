/**
 * The typed failures of `@cair/auth`. Each carries what a caller needs to act (the HTTP status, a
 * `Retry-After` delay) and a message that says what went wrong; none ever holds a secret or a token.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * `POST /api/token` answered 401: the client id or secret is wrong, or the client was disabled.
 * Retrying does not help; fix the credentials.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const token = Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken).pipe(
 *   Effect.catchTag("InvalidCredentials", (error) =>
 *     Effect.dieMessage(`Check the Cair credentials of client ${error.clientId}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>("@cair/auth/InvalidCredentials")(
  "InvalidCredentials",
  {
    clientId: Schema.String,
    status: Schema.Number
  }
) {
  override get message(): string {
    return `The Cair token endpoint rejected the credentials of client "${this.clientId}" (HTTP ${this.status}). ` +
      "Check CAIR_CLIENT_ID and CAIR_CLIENT_SECRET against the admin panel."
  }
}

/**
 * Why a token request failed.
 *
 * - `Transport`: the connection failed (refused, reset, DNS), or the HTTP client failed unexpectedly (a defect,
 *   such as a `fetch` that resolves something that is not a `Response`): the client rests as after any failure.
 * - `Timeout`: no complete answer within `requestTimeoutMs`.
 * - `Status`: the server answered a non-2xx status (after the retries, for a transient one). A 3xx is never
 *   followed: `Status` with the redirect's status.
 * - `Redirected`: the app's HTTP client or `fetch` followed a redirect by itself (`status` is the last hop's):
 *   an answer that came through a redirect is never used, whatever its origin. Not retried.
 * - `ExpiredOnArrival`: the token set answered had already expired when it arrived, by this machine's clocks
 *   and the server's `Date`: it is never handed out. Check the clock of this machine and the server's. The
 *   client rests as after any failure, then asks again (with that set's refresh token while it is valid).
 * - `Closed`: the `CairAuth` service's scope has closed (its layer or runtime was disposed): a call after it fails
 *   at once, and a request under way ends with it. Not retried: build a new service.
 *
 * @example
 * ```ts
 * import { CairAuthError } from "@cair/auth"
 * import * as Schema from "effect/Schema"
 *
 * const isReason = Schema.is(CairAuthError.TokenRequestFailureReason)
 * isReason("Timeout") // true
 * isReason("Refused") // false
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const TokenRequestFailureReason = Schema.Literal(
  "Transport",
  "Timeout",
  "Status",
  "Redirected",
  "ExpiredOnArrival",
  "Closed"
)

/**
 * @example
 * ```ts
 * import { CairAuthError } from "@cair/auth"
 *
 * const advice: Record<CairAuthError.TokenRequestFailureReason, string> = {
 *   Transport: "Check the network and DNS.",
 *   Timeout: "Raise requestTimeoutMs.",
 *   Status: "See the HTTP status and the server's message.",
 *   Redirected: "Check the base URL: the token endpoint redirects.",
 *   ExpiredOnArrival: "Check this machine's clock and the server's.",
 *   Closed: "Build a new CairAuth: this one was closed."
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type TokenRequestFailureReason = typeof TokenRequestFailureReason.Type

/**
 * A token request did not produce a token set: network failure, timeout, a non-2xx status
 * (5xx, 429 and 408 only after the configured retries), an answer that came through a redirect, or a
 * token set that had expired on arrival (see `TokenRequestFailureReason`).
 *
 * @example
 * ```ts
 * import { CairAuthError } from "@cair/auth"
 *
 * const error = new CairAuthError.TokenRequestFailed({
 *   endpoint: "https://forecaster.cairhealth.com/api/token",
 *   reason: "Status",
 *   status: 503,
 *   retryAfterMs: 2_000,
 *   description: "Service Unavailable"
 * })
 * console.log(error.isTransient) // true
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenRequestFailed extends Schema.TaggedError<TokenRequestFailed>("@cair/auth/TokenRequestFailed")(
  "TokenRequestFailed",
  {
    endpoint: Schema.String,
    reason: TokenRequestFailureReason,
    status: Schema.optional(Schema.Number),
    retryAfterMs: Schema.optional(Schema.Number),
    description: Schema.String
  }
) {
  /**
   * Whether another attempt may succeed: transport failures, timeouts, 408, 429 and 5xx, and a token set
   * expired on arrival (a later one may not be). Never an answer that came through a redirect: sending the
   * request again would send its body along the redirect again; never a closed service.
   *
   * @since 0.1.0
   */
  get isTransient(): boolean {
    if (this.reason === "Redirected" || this.reason === "Closed") return false
    return this.status === undefined || this.status === 408 || this.status === 429 || this.status >= 500
  }

  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    const retryAfter = this.retryAfterMs === undefined ? "" : `; the server asked to wait ${this.retryAfterMs} ms`
    return `Token request to ${this.endpoint} failed: ${this.reason}${status}: ${this.description}${retryAfter}`
  }
}

/**
 * The server answered 2xx with a body that is not a token set: not JSON, a missing field, a wrong
 * type or a date that does not parse. `problems` names the fields, never their values.
 *
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const issued = Effect.flatMap(TokenEndpoint.TokenEndpoint, (endpoint) => endpoint.requestToken).pipe(
 *   Effect.tapErrorTag("MalformedTokenResponse", (error) =>
 *     Effect.logError(`Not a token set (HTTP ${error.status}): ${error.problems.join("; ")}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedTokenResponse
  extends Schema.TaggedError<MalformedTokenResponse>("@cair/auth/MalformedTokenResponse")("MalformedTokenResponse", {
    endpoint: Schema.String,
    status: Schema.Number,
    problems: Schema.Array(Schema.String)
  })
{
  override get message(): string {
    return `The answer of ${this.endpoint} (HTTP ${this.status}) is not a token set: ${this.problems.join("; ")}`
  }
}

/**
 * `POST /api/refresh` answered 4xx: the refresh token is unknown, used or expired. `CairAuth`
 * handles it by falling back to the client credentials; it reaches callers of `TokenEndpoint` only.
 *
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import type * as Redacted from "effect/Redacted"
 *
 * // What CairAuth does for you: a rejected refresh token falls back to the client credentials.
 * const renew = (refreshToken: Redacted.Redacted<string>) =>
 *   Effect.flatMap(TokenEndpoint.TokenEndpoint, (endpoint) =>
 *     endpoint.refresh(refreshToken).pipe(Effect.catchTag("RefreshTokenRejected", () => endpoint.requestToken)))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RefreshTokenRejected extends Schema.TaggedError<RefreshTokenRejected>("@cair/auth/RefreshTokenRejected")(
  "RefreshTokenRejected",
  {
    status: Schema.Number
  }
) {
  override get message(): string {
    return `The Cair refresh endpoint rejected the refresh token (HTTP ${this.status})`
  }
}

/**
 * Options given to `CairAuth.layer` or the Promise adapter are not usable.
 *
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import * as Either from "effect/Either"
 *
 * const checked = CairAuth.validateOptions({
 *   clientId: "my-client",
 *   clientSecret: process.env.CAIR_CLIENT_SECRET!,
 *   maxRetries: -1
 * })
 * if (Either.isLeft(checked)) {
 *   console.error(`${checked.left.option}: ${checked.left.description}`) // maxRetries: must be an integer from 0 to 10, got -1
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptions extends Schema.TaggedError<InvalidOptions>("@cair/auth/InvalidOptions")(
  "InvalidOptions",
  {
    option: Schema.String,
    description: Schema.String
  }
) {
  override get message(): string {
    return `Invalid Cair auth option "${this.option}": ${this.description}`
  }
}

/**
 * What `CairAuth.accessToken` can fail with.
 *
 * @example
 * ```ts
 * import { CairAuth, type CairAuthError } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const report = (error: CairAuthError.CairAuthError) => Effect.logError(`${error._tag}: ${error.message}`)
 * const token = Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken).pipe(Effect.tapError(report))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CairAuthError = InvalidCredentials | TokenRequestFailed | MalformedTokenResponse

/**
 * @example
 * ```ts
 * import { CairAuthError } from "@cair/auth"
 *
 * const describe = (error: unknown): string =>
 *   CairAuthError.isCairAuthError(error) ? `Cair auth failed: ${error.message}` : String(error)
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const isCairAuthError = (u: unknown): u is CairAuthError =>
  Predicate.isTagged(u, "InvalidCredentials") || Predicate.isTagged(u, "TokenRequestFailed") ||
  Predicate.isTagged(u, "MalformedTokenResponse")

/**
 * Why a request URL was refused the token:
 *
 * - `OtherOrigin`: an absolute URL whose scheme, host or port is not the base URL's.
 * - `OutsideBasePath`: the base URL's origin, but a path that is not under the base URL's path.
 * - `NetworkPath`: a relative input starting with `//`, which URL parsing reads as the start of a host.
 * - `Backslash`: a `\` anywhere in the path, which URL parsing reads as `/`.
 * - `ControlCharacter`: a control character (tab, CR, LF, NUL, …), which URL parsing drops or mangles.
 * - `DotSegment`: a `.` or `..` segment, plain or encoded: it moves the request elsewhere.
 * - `EncodedSeparator`: a `/`, `\` or `.` hidden in a segment: percent-encoded (`%2F`, `%252F`, `%5C`) or a
 *   Unicode look-alike (`／`, `∕`, `＼`, `．`), which a server or proxy may decode into a separator.
 * - `UserInfo`: a user name or password in the URL.
 * - `NotAUrl`: the input does not parse as a URL.
 *
 * @example
 * ```ts
 * import { CairAuthError } from "@cair/auth"
 * import * as Schema from "effect/Schema"
 *
 * Schema.is(CairAuthError.UnsafeRequestUrlReason)("NetworkPath") // true
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const UnsafeRequestUrlReason = Schema.Literal(
  "OtherOrigin",
  "OutsideBasePath",
  "NetworkPath",
  "Backslash",
  "ControlCharacter",
  "DotSegment",
  "EncodedSeparator",
  "UserInfo",
  "NotAUrl"
)

/**
 * @example
 * ```ts
 * import { CairAuthError } from "@cair/auth"
 *
 * const isPathTrick = (reason: CairAuthError.UnsafeRequestUrlReason): boolean =>
 *   reason !== "OtherOrigin" && reason !== "NotAUrl"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type UnsafeRequestUrlReason = typeof UnsafeRequestUrlReason.Type

const unsafeUrlDescriptions: Record<UnsafeRequestUrlReason, string> = {
  OtherOrigin: "the URL has another origin",
  OutsideBasePath: "the path is not under the base URL's path",
  NetworkPath: "a relative path must not start with // (it would name another host)",
  Backslash: "the path holds a backslash (read as /, it can name another host)",
  ControlCharacter: "the URL holds a control character",
  DotSegment: "the path holds a . or .. segment",
  EncodedSeparator: "a path segment holds an encoded or look-alike /, \\ or .",
  UserInfo: "the URL holds a user name or password",
  NotAUrl: "the input is not a URL"
}

/**
 * A request was refused before any byte was sent: its URL is not under the base URL, the only place the token
 * goes (see `TokenScope`). The input itself is not repeated (it may hold a member id or a control character);
 * `origin` is the other origin, for `OtherOrigin`.
 *
 * @example
 * ```ts
 * import { CairAuthError, TokenScope } from "@cair/auth"
 * import * as Either from "effect/Either"
 *
 * const scope = Either.getOrThrow(TokenScope.make("https://forecaster.cairhealth.com"))
 * const refused = scope.resolve("//evil.example/x")
 * if (Either.isLeft(refused) && refused.left instanceof CairAuthError.UnsafeRequestUrl) {
 *   console.log(refused.left.reason) // NetworkPath
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsafeRequestUrl extends Schema.TaggedError<UnsafeRequestUrl>("@cair/auth/UnsafeRequestUrl")(
  "UnsafeRequestUrl",
  {
    baseUrl: Schema.String,
    reason: UnsafeRequestUrlReason,
    origin: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    const origin = this.origin === undefined ? "" : ` (${this.origin})`
    return `Refusing to send the Cair token: ${
      unsafeUrlDescriptions[this.reason]
    }${origin}; only URLs under ${this.baseUrl} get it`
  }
}
