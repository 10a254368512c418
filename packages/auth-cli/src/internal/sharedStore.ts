import * as RedisTokenStore from "@cair/auth-redis/RedisTokenStore"
import * as TokenStore from "@cair/auth/TokenStore"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { humanDuration } from "./duration.js"
import { ConfigurationError } from "./errors.js"
import type { Environment } from "./settings.js"

/**
 * The token cache a fleet shares, `@cair/auth-redis` at `CAIR_REDIS_URL`: `token` takes the fleet's token from it
 * instead of minting another one, and `check` says whether it answered. Without the variable every `cair-auth`
 * keeps its own token in memory.
 */
export type SharedStoreStatus =
  | { readonly _tag: "NotConfigured"; readonly description: string }
  | { readonly _tag: "Answered"; readonly description: string }
  | { readonly _tag: "Failed"; readonly description: string }

/** The variable that names the shared store. */
export const variable = "CAIR_REDIS_URL"

/** `RedisTokenStore.config` (`CAIR_REDIS_URL`, redacted: it may hold a password), when the variable is set. */
export const options = (
  environment: Environment
): Effect.Effect<Option.Option<RedisTokenStore.Options>, ConfigurationError> =>
  Effect.withConfigProvider(
    Config.option(RedisTokenStore.config),
    ConfigProvider.fromMap(
      new Map(Object.entries(environment.env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
      { pathDelim: "_", seqDelim: "," }
    )
  ).pipe(
    Effect.mapError(() => new ConfigurationError({ lines: [`${variable} cannot be read`] })),
    // node-redis throws on a URL it cannot parse: checked here, and never echoed (it may hold a password).
    Effect.filterOrFail(
      (configured) =>
        Option.isNone(configured) ||
        isRedisUrl(
          Redacted.isRedacted(configured.value.url) ? Redacted.value(configured.value.url) : configured.value.url
        ),
      () =>
        new ConfigurationError({
          lines: [
            `${variable} is invalid: expected redis://[user:password@]host:port[/db], or rediss:// for TLS ` +
            "(the fleet's shared token store; unset it to keep the token in this process)"
          ]
        })
    )
  )

const isRedisUrl = (url: string): boolean => {
  try {
    const parsed = new URL(url)
    return (parsed.protocol === "redis:" || parsed.protocol === "rediss:") && parsed.hostname !== ""
  } catch {
    return false
  }
}

/** How long the access token of a shared entry has left, from `now` (local epoch ms), as the store measures it. */
const accessLifeMs = (stored: TokenStore.StoredTokenSet, now: number): number =>
  stored.tokens.expiresAt.getTime() - (stored.serverDate ?? stored.receivedAt) - Math.max(0, now - stored.receivedAt)

/** Where the store is, for people: the scheme, host and port, never a user name or password. */
export const describeUrl = (url: Redacted.Redacted<string> | string): string => {
  try {
    const parsed = new URL(Redacted.isRedacted(url) ? Redacted.value(url) : url)
    return `${parsed.protocol}//${parsed.host}`
  } catch {
    return "an invalid URL"
  }
}

/** The store's refusal of a URL node-redis cannot parse (the check above lets through), said as the CLI says it. */
const unusable = (error: TokenStore.TokenStoreError): ConfigurationError =>
  new ConfigurationError({
    lines: [`${variable} is invalid: ${error.description} (unset it to keep the token in this process)`]
  })

/** The store `token` and `check` keep the token in: Redis at `CAIR_REDIS_URL`, or memory. */
export const layer = (environment: Environment): Layer.Layer<TokenStore.TokenStore, ConfigurationError> =>
  Layer.unwrapEffect(
    Effect.map(
      options(environment),
      Option.match({
        onNone: () => TokenStore.layerMemory,
        onSome: (configured) => Layer.mapError(RedisTokenStore.layer(configured), unusable)
      })
    )
  )

/** What `check` reports about the shared store, for `client`: whether it answered, and what it holds. */
export const status = (
  environment: Environment,
  client: TokenStore.Client
): Effect.Effect<SharedStoreStatus, ConfigurationError> =>
  Effect.gen(function*() {
    const configured = yield* options(environment)
    if (Option.isNone(configured)) {
      return { _tag: "NotConfigured", description: `not configured (${variable} is not set)` } as const
    }
    const where = describeUrl(configured.value.url)
    const store = yield* Effect.mapError(RedisTokenStore.make(configured.value), unusable)
    const startedAt = yield* Clock.currentTimeMillis
    const latest = yield* Effect.either(Effect.flatMap(store.forClient(client), (slot) => slot.latest))
    const now = yield* Clock.currentTimeMillis
    const after = humanDuration(now - startedAt)
    if (Either.isLeft(latest)) {
      return latest.left.reason === "Malformed"
        ? {
          _tag: "Answered",
          description: `${where} answered in ${after}; its entry for this client does not open with this secret`
        } as const
        : { _tag: "Failed", description: `${where}: ${latest.left.message}` } as const
    }
    return {
      _tag: "Answered",
      description: Option.match(latest.right, {
        onNone: () => `${where} answered in ${after}; no token shared for this client yet`,
        onSome: (entry) => {
          const left = accessLifeMs(entry.tokens, now)
          const state = entry.invalidated
            ? "was refused (a 401 in the fleet)"
            : left > 0
            ? `is valid for ${humanDuration(left)}`
            : "has expired (its refresh token is still good)"
          return `${where} answered in ${after}; the fleet's access token ${state}`
        }
      })
    } as const
  }).pipe(Effect.scoped)
