/**
 * What `CairAuth` tells its observers: every token obtained, every fallback to the client
 * credentials, every failure and invalidation. Events hold no secret: log, meter or persist them.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type { CairAuthError, RefreshTokenRejected } from "./CairAuthError.js"

/**
 * @example
 * ```ts
 * import { CairAuth, TokenEvent } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Stream from "effect/Stream"
 *
 * const describe = (event: TokenEvent.TokenEvent): string =>
 *   event._tag === "Acquired"
 *     ? `token ${event.generation} from ${event.source}, expires ${event.expiresAt.toISOString()}`
 *     : event._tag
 * const logEvents = Effect.flatMap(CairAuth.CairAuth, (auth) =>
 *   Stream.runForEach(auth.events, (event) => Effect.log(describe(event))))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type TokenEvent = Data.TaggedEnum<{
  /** A new token set is in the cache. `source`: how it was obtained. */
  readonly Acquired: {
    readonly source: "credentials" | "refresh" | "store"
    readonly generation: number
    /** When the access token expires, on the local clock. */
    readonly expiresAt: Date
  }
  /** The refresh token could not be used; the client credentials were used instead. */
  readonly FellBack: {
    readonly reason: "RefreshTokenExpired" | "RefreshTokenRejected"
    readonly cause: RefreshTokenRejected | undefined
  }
  /**
   * A token request failed (a token set that had expired on arrival is a failure: `ExpiredOnArrival`).
   * `background`: a still-valid token kept being served meanwhile.
   */
  readonly Failed: {
    readonly error: CairAuthError
    readonly background: boolean
    /** No new request starts before this time. */
    readonly retryAt: Date
  }
  /** The access token of this generation was thrown away (for example after a 401). */
  readonly Invalidated: {
    readonly generation: number
  }
}>

/**
 * Constructors and matchers: `TokenEvent.Acquired({...})`, `TokenEvent.$match(...)`, `TokenEvent.$is("Failed")`.
 *
 * @example
 * ```ts
 * import { TokenEvent } from "@cair/auth"
 *
 * const describe = TokenEvent.TokenEvent.$match({
 *   Acquired: (event) => `token ${event.generation} from ${event.source}`,
 *   FellBack: (event) => `fell back to the client credentials: ${event.reason}`,
 *   Failed: (event) => `token request failed: ${event.error.message}`,
 *   Invalidated: (event) => `token ${event.generation} invalidated`
 * })
 * const isFailure = TokenEvent.TokenEvent.$is("Failed")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const TokenEvent = Data.taggedEnum<TokenEvent>()
