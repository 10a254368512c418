import type { ResolvedOptions } from "./options.js"
import { maxRetryDelayMs } from "./tokenEndpoint.js"
import { maxRejectionRestMs } from "./tokenState.js"

/**
 * The longest one retry cycle takes: every attempt times out, and every delay between them is the longest
 * allowed (`maxRetryDelayMs`, however long a `Retry-After` or a `retrySchedule` asks for).
 *
 * @internal
 */
export const maxCycleMs = (options: Pick<ResolvedOptions, "maxRetries" | "requestTimeoutMs">): number =>
  (options.maxRetries + 1) * options.requestTimeoutMs + options.maxRetries * maxRetryDelayMs

/**
 * The longest a call of `CairAuth` waits before it settles with a token or a typed error. A caller gets the
 * token at once, or the last error at once during a rest after a failure, or waits for one request, which is at
 * most two cycles (the refresh token, then the client credentials when it is rejected or has expired); only a
 * caller arriving during a rest after rejected tokens with no token to get (`TokenState.decide`'s `Wait`: a
 * forced refresh, or the rejected token ended first) waits for that rest first, at most `maxRejectionRestMs`.
 * A `TokenStore` answering slowly adds its own time.
 *
 * @internal
 */
export const maxWaitMs = (options: Pick<ResolvedOptions, "maxRetries" | "requestTimeoutMs">): number =>
  maxRejectionRestMs + 2 * maxCycleMs(options)
