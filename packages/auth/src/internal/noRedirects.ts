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
