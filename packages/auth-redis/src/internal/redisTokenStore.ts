import * as TokenStore from "@cair/auth/TokenStore"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import type * as RedisTokenStore from "../RedisTokenStore.js"
import { connect, type Connection } from "./connection.js"
import * as scripts from "./scripts.js"
import { makeSealer } from "./seal.js"

const Change = Data.taggedEnum<TokenStore.Change>()

/** @internal */
export const defaults = {
  keyPrefix: "cair:auth:",
  commandTimeoutMs: 2_000,
  connectTimeoutMs: 3_000,
  pollIntervalMs: 500
} as const

/** @internal */
export interface Keys {
  readonly entry: string
  readonly lease: string
  readonly channel: string
}

/** The keys of one client: one hash tag, so that they share a cluster slot and a script may touch both. @internal */
export const keysOf = (prefix: string, slotId: string): Keys => ({
  entry: `${prefix}{${slotId}}:token`,
  lease: `${prefix}{${slotId}}:lease`,
  channel: `${prefix}{${slotId}}:changes`
})

const randomId = () => randomBytes(16).toString("hex")

const parseChange = (message: string): TokenStore.Change | undefined => {
  if (message === "r") return Change.Released()
  if (message.startsWith("w:")) return Change.Written({ version: message.slice(2) })
  if (message.startsWith("i:")) return Change.Invalidated({ version: message.slice(2) })
  return undefined
}

const makeSlot = (
  connection: Connection,
  client: TokenStore.Client,
  options: { readonly keyPrefix: string; readonly pollIntervalMs: number }
) =>
  Effect.gen(function*() {
    if (client.clientSecret === undefined || Redacted.value(client.clientSecret) === "") {
      return yield* new TokenStore.TokenStoreError({
        reason: "Misconfigured",
        operation: "forClient",
        description: "the Redis token store seals token sets with the client secret, and none was given"
      })
    }
    const sealer = makeSealer(client, client.clientSecret)
    const keys = keysOf(options.keyPrefix, sealer.slotId)
    const context = (version: string) => `${keys.entry}\n${version}`
    const evalScript = <A>(operation: string, script: string, args: ReadonlyArray<string>) =>
      connection.command<A>(operation, ["EVAL", script, "2", keys.entry, keys.lease, ...args])

    const scope = yield* Effect.scope
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<TokenStore.Change>(), PubSub.shutdown)
    yield* connection.subscribe(keys.channel, (message) => {
      const change = parseChange(message)
      if (change !== undefined) Effect.runSync(PubSub.publish(pubsub, change))
    })

    const latest: TokenStore.Slot["latest"] = Effect.flatMap(
      connection.command<Array<string | null>>("latest", ["HMGET", keys.entry, "v", "s", "i", "r"]),
      ([version, sealed, invalidated, claimed]) => {
        if (version === null || version === undefined || sealed === null || sealed === undefined) {
          return Effect.succeed(Option.none())
        }
        const tokens = sealer.unseal(sealed, context(version))
        if (tokens === undefined) {
          return Effect.fail(
            new TokenStore.TokenStoreError({
              reason: "Malformed",
              operation: "latest",
              description:
                "the entry in Redis cannot be unsealed with this client's secret (another secret, or tampered)"
            })
          )
        }
        return Effect.succeed(Option.some({
          version,
          tokens,
          invalidated: invalidated === "1",
          refreshClaimed: claimed === "1"
        }))
      }
    )

    const release = (id: string) => evalScript("releaseLease", scripts.release, [id, keys.channel])
    /**
     * A lease Redis may hold without this process knowing it can release it: a release that failed (Redis down or
     * frozen: commands fail at once then), or a `SET NX` that timed out but may still run once a frozen Redis
     * resumes. Left alone, it would keep the fleet waiting for its full time after Redis is back. The release
     * (compare-and-delete on the id, so harmless to repeat) is sent again in the background, every poll interval,
     * until Redis takes it or the lease has expired anyway.
     */
    const releaseInBackground = (id: string, ttlMs: number) =>
      Effect.asVoid(Effect.forkIn(
        Effect.ignore(Effect.retry(
          release(id),
          Schedule.spaced(Duration.millis(options.pollIntervalMs)).pipe(Schedule.upTo(Duration.millis(ttlMs)))
        )),
        scope
      ))

    const slot: TokenStore.Slot = {
      latest,
      put: (tokens, expected) =>
        Effect.suspend(() => {
          const version = randomId()
          const ttlMs = Math.max(1, Math.floor(TokenStore.remainingLifeMs(tokens, Date.now())))
          return Effect.map(
            evalScript<number>("put", scripts.put, [
              Option.getOrElse(expected, () => ""),
              version,
              sealer.seal(tokens, context(version)),
              String(ttlMs),
              keys.channel
            ]),
            (written): Option.Option<TokenStore.Entry> =>
              written === 1
                ? Option.some({ version, tokens, invalidated: false, refreshClaimed: false })
                : Option.none()
          )
        }),
      invalidate: (version) =>
        Effect.map(evalScript<number>("invalidate", scripts.invalidate, [version, keys.channel]), (n) => n === 1),
      acquireLease: (ttlMs) =>
        Effect.suspend(() => {
          const id = randomId()
          const ms = String(Math.max(1, Math.ceil(ttlMs)))
          return connection.command<string | null>("acquireLease", ["SET", keys.lease, id, "NX", "PX", ms]).pipe(
            Effect.map((reply) => reply === "OK" ? Option.some({ id, ttlMs }) : Option.none()),
            Effect.tapError((error) => error.reason === "Timeout" ? releaseInBackground(id, ttlMs) : Effect.void)
          )
        }),
      releaseLease: (lease) =>
        Effect.asVoid(release(lease.id)).pipe(Effect.tapError(() => releaseInBackground(lease.id, lease.ttlMs))),
      claimRefresh: (lease, version) =>
        Effect.map(evalScript<number>("claimRefresh", scripts.claim, [lease.id, version]), (n) => n === 1),
      unclaimRefresh: (lease, version) =>
        Effect.asVoid(evalScript("unclaimRefresh", scripts.unclaim, [lease.id, version])),
      awaitChange: (seen, maxWaitMs) =>
        TokenStore.awaitChangeWith({
          changes: Stream.fromPubSub(pubsub),
          done: Effect.map(
            evalScript<[string | null, number]>("awaitChange", scripts.state, []),
            ([version, leased]) => leased === 0 || (version ?? undefined) !== Option.getOrUndefined(seen)
          ),
          maxWaitMs,
          pollMs: options.pollIntervalMs
        }),
      changes: Stream.fromPubSub(pubsub)
    }
    return slot
  })

/** @internal */
export const make = (options: RedisTokenStore.Options) =>
  Effect.gen(function*() {
    const resolved = {
      keyPrefix: options.keyPrefix ?? defaults.keyPrefix,
      pollIntervalMs: options.pollIntervalMs ?? defaults.pollIntervalMs
    }
    const connection = yield* connect({
      url: Redacted.isRedacted(options.url) ? options.url : Redacted.make(options.url),
      commandTimeoutMs: options.commandTimeoutMs ?? defaults.commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs
    })
    return TokenStore.TokenStore.of({ forClient: (client) => makeSlot(connection, client, resolved) })
  })

/** @internal */
export const layer = (
  options: RedisTokenStore.Options
): Layer.Layer<TokenStore.TokenStore, TokenStore.TokenStoreError> => Layer.scoped(TokenStore.TokenStore, make(options))
