/**
 * The wire format of the Cair token endpoints, as Schemas. Tokens and the client secret become
 * `Redacted` the moment they are decoded, so no log line or inspected object can show them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { DateTimeFromString } from "./internal/dateTime.js"

/**
 * A bearer token as RFC 6750 defines it (`b64token`): letters, digits, `-._~+/`, then any `=`. Only such a
 * token can go into an `Authorization` header as it is: a CR, LF or other character outside it could break the
 * header, and fetch's error for such a header prints the value.
 *
 * @example
 * ```ts
 * import { TokenSet } from "@cair/auth"
 * import * as Schema from "effect/Schema"
 *
 * Schema.is(TokenSet.BearerToken)("eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl") // true
 * Schema.is(TokenSet.BearerToken)("token\r\nX-Injected: 1") // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const BearerToken = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9\-._~+/]+=*$/, {
    identifier: "BearerToken",
    // The default message repeats the value: this one does not.
    message: () => "not a bearer token (RFC 6750 b64token)"
  })
)

/**
 * The answer of `POST /api/token` and `POST /api/refresh`. The access token must be a `BearerToken`; a token set
 * with another is `MalformedTokenResponse` ("accessToken has the wrong type or format", never the value). The
 * two dates are RFC 3339 date-times, with `Z` or a numeric offset (`2030-01-01T00:10:00Z`,
 * `2030-01-01T01:10:00+01:00`): a date without one would be read in the machine's time zone, so it does not
 * decode.
 *
 * @example
 * ```ts
 * import { TokenSet } from "@cair/auth"
 * import * as Schema from "effect/Schema"
 *
 * const tokenSet = Schema.decodeUnknownSync(TokenSet.TokenSet)({
 *   accessToken: "fake-access-token",
 *   refreshToken: "fake-refresh-token",
 *   expiresAt: "2030-01-01T00:10:00Z",
 *   refreshTokenExpiresAt: "2030-01-02T00:00:00Z"
 * })
 * console.log(tokenSet.expiresAt.toISOString(), String(tokenSet.accessToken)) // ... <redacted>
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export class TokenSet extends Schema.Class<TokenSet>("@cair/auth/TokenSet")({
  accessToken: Schema.Redacted(BearerToken),
  refreshToken: Schema.Redacted(Schema.NonEmptyString),
  expiresAt: DateTimeFromString,
  refreshTokenExpiresAt: DateTimeFromString
}) {}

/**
 * The body of `POST /api/token`.
 *
 * @example
 * ```ts
 * import { TokenSet } from "@cair/auth"
 * import * as Redacted from "effect/Redacted"
 * import * as Schema from "effect/Schema"
 *
 * const credentials = new TokenSet.ClientCredentials({
 *   clientId: "my-client",
 *   clientSecret: Redacted.make("not-a-real-secret")
 * })
 * const body = JSON.stringify(Schema.encodeSync(TokenSet.ClientCredentials)(credentials))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export class ClientCredentials extends Schema.Class<ClientCredentials>("@cair/auth/ClientCredentials")({
  clientId: Schema.NonEmptyString,
  clientSecret: Schema.Redacted(Schema.NonEmptyString)
}) {}

/**
 * The body of `POST /api/refresh`.
 *
 * @example
 * ```ts
 * import { TokenSet } from "@cair/auth"
 * import * as Schema from "effect/Schema"
 *
 * const refreshBody = (tokens: TokenSet.TokenSet): string =>
 *   JSON.stringify(
 *     Schema.encodeSync(TokenSet.RefreshRequest)(new TokenSet.RefreshRequest({ refreshToken: tokens.refreshToken }))
 *   )
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export class RefreshRequest extends Schema.Class<RefreshRequest>("@cair/auth/RefreshRequest")({
  refreshToken: Schema.Redacted(Schema.NonEmptyString)
}) {}
