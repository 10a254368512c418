import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import * as CairAuth from "../CairAuth.js"
import type * as CairAuthMap from "../CairAuthMap.js"

/** @internal */
export const defaultIdleTimeToLive = "5 minutes"

/** @internal */
export const make = <K, E, R>(
  options: CairAuthMap.Options<K, E, R>
): Effect.Effect<CairAuthMap.CairAuthMap<K, E>, never, HttpClient.HttpClient | Scope.Scope | R> =>
  Effect.map(
    RcMap.make({
      // Each service lives in the scope RcMap gives its entry: closed (background refresh stopped) on release.
      lookup: (key: K) => Effect.flatMap(options.options(key), CairAuth.makeFromOptions),
      idleTimeToLive: options.idleTimeToLive ?? defaultIdleTimeToLive
    }),
    (map): CairAuthMap.CairAuthMap<K, E> => {
      // RcMap keeps a failed lookup for its idle time: a failure must not stay, the next caller tries again.
      const get = (key: K) => Effect.tapError(RcMap.get(map, key), () => RcMap.invalidate(map, key))
      return {
        get,
        accessToken: (key) => Effect.scoped(Effect.flatMap(get(key), (auth) => auth.accessToken)),
        invalidate: (key) => RcMap.invalidate(map, key),
        keys: RcMap.keys(map)
      }
    }
  )
