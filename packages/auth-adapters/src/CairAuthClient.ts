/**
 * A Promise client for the Cair Health token: everything `@cair/auth` does (single flight,
 * background refresh, retries, typed errors) behind an API like any other npm client.
 *
 * @since 0.1.0
 */
import type { InvalidCredentials, InvalidOptions, MalformedTokenResponse, TokenRequestFailed } from "./index.js"
import * as internal from "./internal/cairAuthClient.js"

// The types of the errors and events are the adapter's own, written out without Effect (the errors in `index.ts`):
// the package ships its dependencies bundled, so its declarations may name no other package. The core's classes and
// events are assigned to them where the adapter hands them on, so the compiler keeps both in step.

/**
 * The refresh endpoint rejected the refresh token (HTTP 4xx). The client falls back to the client credentials by
 * itself: this reaches `onEvent` only, as the cause of a `FellBack` event.
 *
 * @example
 * ```ts
 * import type { RefreshTokenRejected } from "@cair/auth-adapters"
 *
 * const status = (error: RefreshTokenRejected): number => error.status
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export interface RefreshTokenRejected extends Error {
  readonly _tag: "RefreshTokenRejected"
  readonly status: number
}

/**
 * What a token request can fail with: the rejection of `getAccessToken` and `fetch`, and the `error` of a `Failed`
 * event.
 *
 * @example
 * ```ts
 * import type { CairAuthFailure } from "@cair/auth-adapters"
 *
 * const isConfigurationProblem = (error: CairAuthFailure): boolean => error._tag === "InvalidCredentials"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CairAuthFailure = InvalidCredentials | TokenRequestFailed | MalformedTokenResponse

/**
 * What the client tells `onEvent`: every token acquired, every fallback to the client credentials, every failed
 * request and every invalidation. Events hold no secret: log them, count them.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, type TokenEvent } from "@cair/auth-adapters"
 *
 * const describe = (event: TokenEvent): string => {
 *   switch (event._tag) {
 *     case "Acquired":
 *       return `token ${event.generation} from ${event.source}, expires ${event.expiresAt.toISOString()}`
 *     case "FellBack":
 *       return `fell back to the client credentials: ${event.reason}`
 *     case "Failed":
 *       return `token request failed (${event.error._tag}); next attempt from ${event.retryAt.toISOString()}`
 *     case "Invalidated":
 *       return `token ${event.generation} invalidated`
 *   }
 * }
 * const auth = createCairAuthClient({
 *   clientId: "my-client",
 *   clientSecret: process.env.CAIR_CLIENT_SECRET!,
 *   onEvent: (event) => console.info(describe(event))
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type TokenEvent =
  | {
    /** A new token set is in the cache. */
    readonly _tag: "Acquired"
    /** How it was obtained. */
    readonly source: "credentials" | "refresh" | "store"
    /** Counts the token sets this client obtained. */
    readonly generation: number
    /** When the access token expires, on the local clock. */
    readonly expiresAt: Date
  }
  | {
    /** The refresh token could not be used; the client credentials were used instead. */
    readonly _tag: "FellBack"
    readonly reason: "RefreshTokenExpired" | "RefreshTokenRejected"
    readonly cause: RefreshTokenRejected | undefined
  }
  | {
    /** A token request failed (a token set that had expired on arrival is a failure: `ExpiredOnArrival`). */
    readonly _tag: "Failed"
    readonly error: CairAuthFailure
    /** A still-valid token kept being served meanwhile. */
    readonly background: boolean
    /** No new request starts before this time. */
    readonly retryAt: Date
  }
  | {
    /** The access token of this generation was thrown away (for example after a 401). */
    readonly _tag: "Invalidated"
    readonly generation: number
  }

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
   * metrics. Events hold no secret. An exception thrown here, or the rejection of the promise an async function
   * returns, is ignored.
   */
  readonly onEvent?: ((event: TokenEvent) => void) | undefined
  /**
   * Record the `cair.auth.*` metrics (token requests, their duration and retries, reads, refreshes, fallbacks,
   * invalidations) into this OpenTelemetry `MeterProvider`, e.g. `metrics.getMeterProvider()` of
   * `@opentelemetry/api`. The instruments are created on the meter `@cair/auth`. Default: none.
   */
  readonly meterProvider?: MeterProvider | undefined
  /**
   * `false` records no metric. Default `true`: the metrics go to the `meterProvider`; without one nothing is
   * recorded (there is nowhere else Promise code could read them).
   */
  readonly metrics?: boolean | undefined
  /**
   * Share the token with every process using this Redis, client id and base URL (`redis://[user:password@]host:port`;
   * it may hold a password, which is never shown). Needs `@cair/auth-redis` installed next to this package: it is
   * loaded only when this is set, in the background (the client is made synchronously). If it is not installed, or
   * cannot parse the URL, every call (`getAccessToken`, `fetch`, `invalidate`, the first one included) rejects with
   * `InvalidOptions` (`option: "redisUrl"`) naming what to do, and no token is requested. While Redis does not
   * answer (down, frozen, unreachable), the client works on its own and logs one warning per outage.
   */
  readonly redisUrl?: string | undefined
}

/**
 * The part of an OpenTelemetry `MeterProvider` the client uses: `@opentelemetry/api`'s `MeterProvider` is one (the
 * global one, `metrics.getMeterProvider()`, or an SDK's). The package does not depend on `@opentelemetry/api`.
 *
 * @example
 * ```ts
 * import { createCairAuthClient, type MeterProvider } from "@cair/auth-adapters"
 *
 * declare const meterProvider: MeterProvider // metrics.getMeterProvider() of @opentelemetry/api
 * const auth = createCairAuthClient({
 *   clientId: "my-client",
 *   clientSecret: process.env.CAIR_CLIENT_SECRET!,
 *   meterProvider
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MeterProvider {
  /** The meter of `name`: the client asks for `"@cair/auth"`. */
  getMeter(name: string): {
    /** A monotonic counter, for the counts recorded off the hot path. */
    createCounter(name: string, options?: {
      readonly description?: string
      readonly unit?: string
    }): {
      /** Adds `value` to the series of `attributes`. */
      add(value: number, attributes?: Readonly<Record<string, string | number | boolean | undefined>>): void
    }
    /** A histogram; `advice.explicitBucketBoundaries` carries the client's buckets. */
    createHistogram(name: string, options?: {
      readonly description?: string
      readonly unit?: string
      readonly advice?: { readonly explicitBucketBoundaries?: Array<number> }
    }): {
      /** Records one observation in the series of `attributes`. */
      record(value: number, attributes?: Readonly<Record<string, string | number | boolean | undefined>>): void
    }
    /** A counter read at collection, for `cair.auth.token.reads`, counted on the hot path. */
    createObservableCounter(name: string, options?: {
      readonly description?: string
      readonly unit?: string
    }): {
      /** Calls `callback` at each collection. */
      addCallback(
        callback: (result: {
          observe(value: number, attributes?: Readonly<Record<string, string | number | boolean | undefined>>): void
        }) => void
      ): void
      /** Stops calling `callback`: done when the client closes. */
      removeCallback(
        callback: (result: {
          observe(value: number, attributes?: Readonly<Record<string, string | number | boolean | undefined>>): void
        }) => void
      ): void
    }
  }
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
   * `fetch` with the `Authorization` header set, behaving as the global `fetch` otherwise (`init` applies over a
   * `Request`; its `signal` counts).
   *
   * - Where the token goes: a relative path is a path below `baseUrl`; an absolute URL (or `Request`) must be
   *   under `baseUrl` too. Anything else (a leading `//` or `\`, a control character, a `.` or `..` segment, an
   *   encoded or look-alike `/`, another origin) rejects with `UnsafeRequestUrl` before anything is sent.
   * - Redirects are followed as fetch follows them, hop by hop: each hop carries the token only if its URL is
   *   under `baseUrl`; a hop elsewhere goes without `Authorization`. With `redirect: "manual"` the 3xx is
   *   returned; with `"error"` it rejects.
   * - On a 401 the token is invalidated and the request sent once more with a new one; a second 401 is returned.
   *   A body that cannot be sent twice (a `ReadableStream`) is not retried: the 401 is returned, and its token is
   *   invalidated all the same.
   * - A `TypeError` of fetch for an invalid header value shows `<redacted>` in place of the value.
   */
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  /** Throws the current access token away; the next call gets a new one. */
  readonly invalidate: () => Promise<void>
  /**
   * Stops everything: pending calls reject with `ClientClosed`, and no timer or socket is left. Every call resolves
   * once that is done, a second one too.
   */
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
 * `MalformedTokenResponse`, all `Error` instances with a `_tag`), `InvalidOptions` for a `redisUrl` that cannot be
 * used (`@cair/auth-redis` not installed, or a URL it cannot parse), `ClientClosed`, or the caller's `AbortSignal`
 * reason (a `DOMException` named `AbortError` unless the caller gave another).
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
 *     case "InvalidOptions":
 *       throw new Error(`Fix the option ${error.option}`, { cause: error })
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
export type CairAuthClientError = CairAuthFailure | InvalidOptions | ClientClosed

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
