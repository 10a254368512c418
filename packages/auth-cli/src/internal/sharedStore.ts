import * as TokenStore from "@cair/auth/TokenStore"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type { Environment } from "./settings.js"

/**
 * The token cache a fleet shares (`CAIR_REDIS_URL`): `token` takes the fleet's token from it instead of minting
 * another one, and `check` says whether it answered.
 *
 * This is the one place that knows about it. Until the shared store ships, every process keeps its own token in
 * memory and `check` says the store is not configured.
 */
export type SharedStoreStatus =
  | { readonly _tag: "NotConfigured"; readonly description: string }
  | { readonly _tag: "Answered"; readonly description: string }
  | { readonly _tag: "Failed"; readonly description: string }

/** The variable that names the shared store. */
export const variable = "CAIR_REDIS_URL"

/** The store `token` keeps its token in. */
export const layer = (_environment: Environment): Layer.Layer<TokenStore.TokenStore> => TokenStore.layerMemory

/** What `check` reports about the shared store. */
export const status = (environment: Environment): Effect.Effect<SharedStoreStatus> =>
  Effect.succeed(
    environment.env[variable] === undefined || environment.env[variable] === ""
      ? { _tag: "NotConfigured", description: `not configured (${variable} is not set)` }
      : {
        _tag: "NotConfigured",
        description: `not configured (${variable} is set, but this cair-auth has no shared store yet: ` +
          "it gets a token of its own)"
      }
  )
