import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { IssuedTokenSet } from "../TokenEndpoint.js"
import { TokenStore } from "../TokenStore.js"
import type { Client, TokenStoreError } from "../TokenStore.js"
import { defaultBaseUrl } from "./options.js"

/** @internal */
export interface ClientOptions {
  readonly clientId: string
  readonly baseUrl?: string | undefined
  readonly clientSecret?: Redacted.Redacted<string> | undefined
}

/** Why a cycle went on without the store: it could not be opened, read or written. @internal */
export type StoreFallback = "unavailable" | "read" | "write"

/**
 * The token store as the core reads and writes it today: the latest usable token set, and a write
 * after each token obtained. A store that fails is skipped (each store logs its own outages once), and
 * `fellBack` is told (the metric `cair.auth.store.fallbacks`).
 *
 * @internal
 */
export const latestAndWrite = (options: ClientOptions, fellBack: (reason: StoreFallback) => void) =>
  Effect.gen(function*() {
    const logged = (operation: "read" | "write") => (error: TokenStoreError) =>
      Effect.zipRight(
        Effect.sync(() => fellBack(operation)),
        Effect.logDebug(`Cair token store: ${operation} failed, going on without it: ${error.message}`)
      )
    const client: Client = {
      clientId: options.clientId,
      baseUrl: options.baseUrl ?? defaultBaseUrl,
      clientSecret: options.clientSecret
    }
    const slot = yield* Effect.flatMap(TokenStore, (store) => store.forClient(client)).pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) =>
        Effect.sync(() => fellBack("unavailable")).pipe(
          Effect.zipRight(Effect.logWarning(`Cair token store not used: ${error.message}`)),
          Effect.as(Option.none())
        )
      )
    )
    if (Option.isNone(slot)) {
      return { get: Effect.succeedNone, set: (_: IssuedTokenSet) => Effect.void }
    }
    const latest = slot.value.latest
    return {
      get: latest.pipe(
        Effect.map(Option.filterMap((entry) => entry.invalidated ? Option.none() : Option.some(entry.tokens))),
        Effect.tapError(logged("read")),
        Effect.orElseSucceed(Option.none<IssuedTokenSet>)
      ),
      set: (issued: IssuedTokenSet) =>
        latest.pipe(
          Effect.flatMap((entry) => slot.value.put(issued, Option.map(entry, (entry) => entry.version))),
          Effect.tapError(logged("write")),
          Effect.ignore
        )
    }
  })
