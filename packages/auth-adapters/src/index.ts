/**
 * `@cair/auth-adapters`: the bearer token of the Cair Health API behind a Promise API, for Node code that does not
 * use Effect, from ESM (`import`) or CommonJS (`require`).
 *
 * @since 0.1.0
 */
import { CairAuthError } from "@cair/auth"

/**
 * @since 0.1.0
 */
export { ClientClosed, createCairAuthClient } from "./CairAuthClient.js"

/**
 * @since 0.1.0
 */
export type { CairAuthClient, CairAuthClientError, CairAuthClientOptions, CallOptions } from "./CairAuthClient.js"

/**
 * The token endpoint rejected the client id or secret (HTTP 401): fix the configuration, retrying does not help.
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
export const InvalidCredentials = CairAuthError.InvalidCredentials

/**
 * An instance of {@link InvalidCredentials}.
 *
 * @since 0.1.0
 * @category errors
 */
export type InvalidCredentials = CairAuthError.InvalidCredentials

/**
 * Thrown by `createCairAuthClient` at once for unusable options: `error.option` names the option,
 * `error.description` says what is wrong with it.
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
export const InvalidOptions = CairAuthError.InvalidOptions

/**
 * An instance of {@link InvalidOptions}.
 *
 * @since 0.1.0
 * @category errors
 */
export type InvalidOptions = CairAuthError.InvalidOptions

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
export const MalformedTokenResponse = CairAuthError.MalformedTokenResponse

/**
 * An instance of {@link MalformedTokenResponse}.
 *
 * @since 0.1.0
 * @category errors
 */
export type MalformedTokenResponse = CairAuthError.MalformedTokenResponse

/**
 * A token request failed after the retries: `error.reason` is `"Transport"`, `"Timeout"` or `"Status"` (then
 * `error.status` is the HTTP status), `error.retryAfterMs` the server's `Retry-After`, and `error.isTransient` whether
 * a later attempt may succeed.
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
export const TokenRequestFailed = CairAuthError.TokenRequestFailed

/**
 * An instance of {@link TokenRequestFailed}.
 *
 * @since 0.1.0
 * @category errors
 */
export type TokenRequestFailed = CairAuthError.TokenRequestFailed
