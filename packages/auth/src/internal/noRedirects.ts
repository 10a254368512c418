import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * Runs `effect` with `FetchHttpClient` told not to follow redirects (`redirect: "manual"`), on top of whatever
 * `RequestInit` the app gave it: fetch would otherwise follow a 307 with the body, or a same-origin redirect with
 * every header. Other `HttpClient`s of the platform (`NodeHttpClient`) never follow by themselves.
 *
 * @internal
 */
export const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, {
        ...Option.getOrUndefined(init),
        redirect: "manual"
      })
  )

/** The part of a web `Response` that tells where it came from. */
interface WebOrigin {
  readonly url: string
  readonly redirected: boolean
}

const isWebOrigin = (u: unknown): u is WebOrigin =>
  typeof u === "object" && u !== null && typeof (u as WebOrigin).url === "string" &&
  typeof (u as WebOrigin).redirected === "boolean"

/**
 * The web `Response` under a fetch-based client's response, if there is one. `HttpClientResponse.fromWeb` (as
 * `FetchHttpClient` makes its responses) keeps it as `source`, and `HttpClient.make` wraps every response it
 * returns (`original`). Neither field is public in @effect/platform 0.97: both are read only after a check of
 * their shape, and the tests over `FetchHttpClient` (packages/auth/test/TokenBoundary.test.ts) fail if a release
 * renames them.
 */
const webResponse = (response: unknown, depth = 0): WebOrigin | undefined => {
  if (typeof response !== "object" || response === null || depth > 4) return undefined
  const { original, source } = response as { readonly original?: unknown; readonly source?: unknown }
  return isWebOrigin(source) ? source : webResponse(original, depth + 1)
}

/**
 * Where an answer really came from, and whether the transport followed a redirect to get it.
 *
 * `response.request.url` is the URL of the request as built: under `FetchHttpClient` it stays the first URL
 * whatever fetch did, so it cannot tell. The web `Response` can: its `url` is the last hop's and `redirected`
 * says whether fetch followed one. A `Response` made by hand has an empty `url`: then, as for the other
 * transports (which never follow by themselves; `HttpClient.followRedirects` answers with the last hop's
 * request), the request's URL is all there is.
 *
 * @internal
 */
export const answeredFrom = (response: HttpClientResponse.HttpClientResponse): WebOrigin => {
  const web = webResponse(response)
  if (web !== undefined && web.url !== "") return { url: web.url, redirected: web.redirected }
  return { url: response.request.url, redirected: web?.redirected ?? false }
}

/** @internal */
export const isRedirect = (status: number): boolean => status >= 300 && status < 400

/**
 * Where a redirect points, as an origin (or the scheme of a URL without one), never the path or the query.
 *
 * @internal
 */
export const redirectOrigin = (response: HttpClientResponse.HttpClientResponse, from: string): string => {
  const location = response.headers["location"]
  if (location === undefined || location === "") return "no Location"
  try {
    const url = new URL(location, from)
    return url.origin === "null" ? url.protocol : url.origin
  } catch {
    return "an unreadable Location"
  }
}
