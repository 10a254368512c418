import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import type * as TokenStore from "../TokenStore.js"

/** @internal */
export const tag = Context.GenericTag<TokenStore.TokenStore, TokenStore.TokenStore.Service>("@cair/auth/TokenStore")

/** @internal */
export const Change = Data.taggedEnum<TokenStore.Change>()

/** @internal */
export const remainingLifeMs = (stored: TokenStore.StoredTokenSet, now: number): number => {
  const issuedAt = stored.serverDate ?? stored.receivedAt
  const life = stored.tokens.refreshTokenExpiresAt.getTime() - issuedAt
  return life - Math.max(0, now - stored.receivedAt)
}

/** A random identifier for versions and leases: 128 bits, hex. @internal */
export const randomId = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")
}

/** The key of a client's slot: two ids, or one id at two base URLs, never share one. @internal */
export const clientKey = (client: TokenStore.Client): string => JSON.stringify([client.clientId, client.baseUrl])

/**
 * Waits, as `Slot.awaitChange` does, on a stream of changes and a check, re-checking at least every
 * `pollMs`: the loop a shared store runs with pub/sub as the fast path and polling as the fallback.
 *
 * @internal
 */
export const awaitChangeWith = <E>(options: {
  readonly changes: Stream.Stream<TokenStore.Change>
  /** Whether the wait is over: the entry is no longer `seen` or the lease is free. */
  readonly done: Effect.Effect<boolean, E>
  readonly maxWaitMs: number
  readonly pollMs: number
}): Effect.Effect<void, E> =>
  Effect.scoped(Effect.gen(function*() {
    const queue = yield* Queue.sliding<TokenStore.Change>(1)
    yield* Effect.forkScoped(Stream.runForEach(options.changes, (change) => Queue.offer(queue, change)))
    yield* Effect.yieldNow()
    const deadline = (yield* Clock.currentTimeMillis) + Math.max(0, options.maxWaitMs)
    while (!(yield* options.done)) {
      const left = deadline - (yield* Clock.currentTimeMillis)
      if (left <= 0) return
      yield* Effect.raceFirst(Queue.take(queue), Effect.sleep(Duration.millis(Math.min(left, options.pollMs))))
    }
  }))

interface SlotState {
  readonly entry: { readonly value: TokenStore.Entry; readonly until: number } | undefined
  readonly lease: { readonly id: string; readonly until: number } | undefined
}

const makeMemorySlot = Effect.gen(function*() {
  const state = yield* Ref.make<SlotState>({ entry: undefined, lease: undefined })
  const pubsub = yield* PubSub.unbounded<TokenStore.Change>()
  const publish = (change: TokenStore.Change) => PubSub.publish(pubsub, change)
  const now = Clock.currentTimeMillis

  const current = (s: SlotState, at: number) => ({
    entry: s.entry !== undefined && at < s.entry.until ? s.entry.value : undefined,
    lease: s.lease !== undefined && at < s.lease.until ? s.lease : undefined
  })

  const slot: TokenStore.Slot = {
    latest: Effect.flatMap(now, (at) => Effect.map(Ref.get(state), (s) => Option.fromNullable(current(s, at).entry))),
    put: (tokens, expected) =>
      Effect.flatMap(now, (at) =>
        Effect.flatMap(
          Ref.modify(state, (s): [Option.Option<TokenStore.Entry>, SlotState] => {
            const entry = current(s, at).entry
            const matches = Option.match(expected, {
              onNone: () => entry === undefined,
              onSome: (version) => entry?.version === version
            })
            if (!matches) return [Option.none(), s]
            const value: TokenStore.Entry = { version: randomId(), tokens, invalidated: false, refreshClaimed: false }
            return [Option.some(value), { ...s, entry: { value, until: at + remainingLifeMs(tokens, at) } }]
          }),
          (written): Effect.Effect<Option.Option<TokenStore.Entry>> =>
            Option.isSome(written)
              ? Effect.as(publish(Change.Written({ version: written.value.version })), written)
              : Effect.succeed(written)
        )),
    invalidate: (version) =>
      Effect.flatMap(now, (at) =>
        Effect.flatMap(
          Ref.modify(state, (s): [boolean, SlotState] => {
            const entry = current(s, at).entry
            if (entry === undefined || entry.version !== version || entry.invalidated) return [false, s]
            return [true, { ...s, entry: { value: { ...entry, invalidated: true }, until: s.entry!.until } }]
          }),
          (done) => done ? Effect.as(publish(Change.Invalidated({ version })), true) : Effect.succeed(false)
        )),
    acquireLease: (ttlMs) =>
      Effect.flatMap(now, (at) =>
        Ref.modify(state, (s): [Option.Option<TokenStore.Lease>, SlotState] => {
          if (current(s, at).lease !== undefined) return [Option.none(), s]
          const lease: TokenStore.Lease = { id: randomId(), ttlMs }
          return [Option.some(lease), { ...s, lease: { id: lease.id, until: at + ttlMs } }]
        })),
    releaseLease: (lease) =>
      Effect.flatMap(
        Ref.modify(state, (s): [boolean, SlotState] =>
          s.lease?.id === lease.id ? [true, { ...s, lease: undefined }] : [false, s]),
        (released) =>
          released ? Effect.asVoid(publish(Change.Released())) : Effect.void
      ),
    claimRefresh: (lease, version) =>
      Effect.flatMap(now, (at) =>
        Ref.modify(state, (s): [boolean, SlotState] => {
          const { entry, lease: held } = current(s, at)
          if (held?.id !== lease.id || entry === undefined || entry.version !== version || entry.refreshClaimed) {
            return [false, s]
          }
          return [true, { ...s, entry: { value: { ...entry, refreshClaimed: true }, until: s.entry!.until } }]
        })),
    unclaimRefresh: (lease, version) =>
      Effect.flatMap(now, (at) =>
        Ref.update(state, (s): SlotState => {
          const { entry, lease: held } = current(s, at)
          if (held?.id !== lease.id || entry === undefined || entry.version !== version) return s
          return { ...s, entry: { value: { ...entry, refreshClaimed: false }, until: s.entry!.until } }
        })),
    awaitChange: (seen, maxWaitMs) =>
      Effect.flatMap(Effect.zip(Ref.get(state), now), ([s, at]) =>
        awaitChangeWith({
          changes: Stream.fromPubSub(pubsub),
          done: Effect.map(Effect.zip(Ref.get(state), now), ([s, at]) => {
            const { entry, lease } = current(s, at)
            return lease === undefined || entry?.version !== Option.getOrUndefined(seen)
          }),
          maxWaitMs,
          // Only time frees a lease without a notification: wake up when it expires.
          pollMs: Math.max(1, (s.lease?.until ?? Infinity) - at)
        })),
    // Built when subscribed: an eager `fromPubSub` costs 3 KiB a slot, and a client per organization has one each.
    changes: Stream.suspend(() => Stream.fromPubSub(pubsub))
  }
  return slot
})

/** @internal */
export const makeMemory: Effect.Effect<TokenStore.TokenStore.Service> = Effect.sync(() => {
  const slots = new Map<string, TokenStore.Slot>()
  return tag.of({
    forClient: (client) =>
      Effect.suspend(() => {
        const key = clientKey(client)
        const existing = slots.get(key)
        if (existing !== undefined) return Effect.succeed(existing)
        return Effect.map(makeMemorySlot, (slot) => {
          const raced = slots.get(key)
          if (raced !== undefined) return raced
          slots.set(key, slot)
          return slot
        })
      })
  })
})

/** @internal */
export const layerMemory: Layer.Layer<TokenStore.TokenStore> = Layer.effect(tag, makeMemory)
