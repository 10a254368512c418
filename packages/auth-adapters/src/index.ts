/**
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
 * The core's errors, for `instanceof` checks on rejections.
 *
 * @since 0.1.0
 * @category errors
 */
export const { InvalidCredentials, InvalidOptions, MalformedTokenResponse, TokenRequestFailed } = CairAuthError

/**
 * @since 0.1.0
 * @category errors
 */
export type InvalidCredentials = CairAuthError.InvalidCredentials

/**
 * @since 0.1.0
 * @category errors
 */
export type InvalidOptions = CairAuthError.InvalidOptions

/**
 * @since 0.1.0
 * @category errors
 */
export type MalformedTokenResponse = CairAuthError.MalformedTokenResponse

/**
 * @since 0.1.0
 * @category errors
 */
export type TokenRequestFailed = CairAuthError.TokenRequestFailed
