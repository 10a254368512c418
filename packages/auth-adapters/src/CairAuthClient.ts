/**
 * A Promise client for the Cair Health token: everything `@cair/auth` does (single flight,
 * background refresh, retries, typed errors) behind an API like any other npm client.
 *
 * @since 0.1.0
 */
import type { CairAuthError, TokenEvent } from "@cair/auth"
import * as internal from "./internal/cairAuthClient.js"

/**
 * The options of `createCairAuthClient`: the client credentials, and optionally where and how patiently to ask.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, type CairAuthClientOptions } from "@cair/auth-adapters"
 *
 * const options: CairAuthClientOptions = {
 *   clientId: process.env.CAIR_CLIENT_ID ?? "",
 *   clientSecret: process.env.CAIR_CLIENT_SECRET ?? "",
 *   refreshWindowMs: 120_000,
 *   maxRetries: 5,
 *   logLevel: "Error",
 *   onEvent: (event) => console.info(`cair token: ${event._tag}`)
 * }
 * const auth = createCairAuthClient(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CairAuthClientOptions {
  /** The client id of the Cair admin panel. */
  readonly clientId: string
  /** The client secret. It never appears in an error message, a log line or an inspected object. */
  readonly clientSecret: string
  /** Default `https://forecaster.cairhealth.com`; `http:` is accepted for loopback hosts only. */
  readonly baseUrl?: string | URL | undefined
  /** A refresh starts in the background once less than this remains of the token's life. Default 60 000. */
  readonly refreshWindowMs?: number | undefined
  /** Timeout of one token request attempt in milliseconds. Default 10 000. */
  readonly requestTimeoutMs?: number | undefined
  /** How many times a transient failure (network, timeout, 408, 429, 5xx) is retried. Default 3. */
  readonly maxRetries?: number | undefined
  /** The `fetch` used for token requests and `client.fetch`. Default: the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch | undefined
  /**
   * The least severe log line printed (with Effect's default logger, on the console): background
   * refresh failures and fallbacks are warnings. Default `"Warning"`; `"None"` prints nothing.
   */
  readonly logLevel?: "Debug" | "Info" | "Warning" | "Error" | "None" | undefined
  /**
   * Called with every token event (acquired, fell back, failed, invalidated): for logs and
   * metrics. Events hold no secret. An exception thrown here is ignored.
   */
  readonly onEvent?: ((event: TokenEvent.TokenEvent) => void) | undefined
}

/**
 * The options of one call.
 *
 * @example
 * ```ts
 * import { createCairAuthClient } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 * // Give up after 2 seconds; the token request itself goes on for the other callers.
 * const token = await auth.getAccessToken({ signal: AbortSignal.timeout(2_000) })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Aborting rejects this call at once; the shared token request goes on for other callers. */
  readonly signal?: AbortSignal | undefined
}

/**
 * A client made by `createCairAuthClient`: one per process and set of credentials. It keeps the token in memory and
 * answers from that cache, without I/O, while the token is valid.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, type CairAuthClient } from "@cair/auth-adapters"
 *
 * const checkEligibility = async (auth: CairAuthClient, memberId: string): Promise<boolean> => {
 *   const response = await auth.fetch("/api/eligibility/v1", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify({ memberId })
 *   })
 *   if (!response.ok) throw new Error(`Eligibility check failed: HTTP ${response.status}`)
 *   const body = (await response.json()) as { eligible: boolean }
 *   return body.eligible
 * }
 *
 * // TypeScript 5.2+: `await using` closes the client at the end of the block.
 * await using auth = createCairAuthClient({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 * console.log(await checkEligibility(auth, "m-1001"))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CairAuthClient extends AsyncDisposable {
  /** The current access token; waits for a token request only when no valid token is cached. */
  readonly getAccessToken: (options?: CallOptions) => Promise<string>
  /** `"Bearer <token>"`, for an `Authorization` header. */
  readonly getAuthorizationHeader: (options?: CallOptions) => Promise<string>
  /**
   * `fetch` with the `Authorization` header set. A relative path resolves against `baseUrl`; an
   * absolute URL must have the origin of `baseUrl` (the token is never sent elsewhere). On a 401 the
   * token is invalidated and the request sent once more with a new one; a second 401 is returned.
   * A body that cannot be sent twice (a `ReadableStream`) is not retried: the 401 is returned.
   */
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  /** Throws the current access token away; the next call gets a new one. */
  readonly invalidate: () => Promise<void>
  /** Stops everything: pending calls reject with `ClientClosed`, and no timer or socket is left. */
  readonly close: () => Promise<void>
}

/**
 * The rejection of a call made after `close()`, and of the calls still waiting when it was called.
 *
 * @example
 * ```ts
 * import { ClientClosed, createCairAuthClient } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 * await auth.close()
 * try {
 *   await auth.getAccessToken()
 * } catch (error) {
 *   console.log(error instanceof ClientClosed) // true
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientClosed extends Error {
  /** Tells the error apart from the others without `instanceof`. */
  readonly _tag = "ClientClosed"
  constructor() {
    super("The Cair auth client was closed")
    this.name = "ClientClosed"
  }
}

/**
 * What a call can reject with: the core's typed errors (`InvalidCredentials`, `TokenRequestFailed`,
 * `MalformedTokenResponse`, all `Error` instances with a `_tag`), `ClientClosed`, or the caller's
 * `AbortSignal` reason (a `DOMException` named `AbortError` unless the caller gave another).
 *
 * @example
 * ```ts
 * import { createCairAuthClient, type CairAuthClientError } from "@cair/auth-adapters"
 *
 * const auth = createCairAuthClient({ clientId: "my-client", clientSecret: process.env.CAIR_CLIENT_SECRET! })
 * const token = await auth.getAccessToken().catch((error: CairAuthClientError) => {
 *   switch (error._tag) {
 *     case "InvalidCredentials":
 *       throw new Error("Fix CAIR_CLIENT_ID / CAIR_CLIENT_SECRET", { cause: error })
 *     case "TokenRequestFailed":
 *     case "MalformedTokenResponse":
 *     case "ClientClosed":
 *       return undefined
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CairAuthClientError = CairAuthError.CairAuthError | ClientClosed

/**
 * Creates a client. Throws `InvalidOptions` at once for unusable options. Nothing is requested
 * until the first call.
 *
 * @example
 * ```js
 * const { createCairAuthClient } = require("@cair/auth-adapters")
 *
 * const auth = createCairAuthClient({
 *   clientId: process.env.CAIR_CLIENT_ID,
 *   clientSecret: process.env.CAIR_CLIENT_SECRET
 * })
 * const response = await auth.fetch("/api/eligibility/v1", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ memberId: "m-1001" })
 * })
 * await auth.close()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const createCairAuthClient: (options: CairAuthClientOptions) => CairAuthClient = internal.make
