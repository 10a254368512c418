/**
 * The wire format of the Cair token endpoints, as Schemas. Tokens and the client secret become
 * `Redacted` the moment they are decoded, so no log line or inspected object can show them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The answer of `POST /api/token` and `POST /api/refresh`.
 *
 * @since 0.1.0
 * @category schemas
 */
export class TokenSet extends Schema.Class<TokenSet>("@cair/auth/TokenSet")({
  accessToken: Schema.Redacted(Schema.NonEmptyString),
  refreshToken: Schema.Redacted(Schema.NonEmptyString),
  expiresAt: Schema.DateFromString.pipe(Schema.validDate()),
  refreshTokenExpiresAt: Schema.DateFromString.pipe(Schema.validDate())
}) {}

/**
 * The body of `POST /api/token`.
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
 * @since 0.1.0
 * @category schemas
 */
export class RefreshRequest extends Schema.Class<RefreshRequest>("@cair/auth/RefreshRequest")({
  refreshToken: Schema.Redacted(Schema.NonEmptyString)
}) {}
