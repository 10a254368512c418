import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { TokenSet } from "../TokenSet.js"
import { TokenStore } from "../TokenStore.js"
import type { Client, Entry, Slot, StoredTokenSet } from "../TokenStore.js"
import type * as Conformance from "../TokenStoreConformance.js"

const check = (condition: boolean, what: string): Effect.Effect<void> =>
  condition ? Effect.void : Effect.dieMessage(`expected ${what}`)

let counter = 0
/** A client no other case uses, so a store shared between cases cannot make one pass for another. */
const freshClient = (suffix = ""): Client => {
  counter += 1
  const id = `conformance-${Date.now().toString(36)}-${counter}${suffix}`
  return {
    clientId: id,
    baseUrl: "https://forecaster.cairhealth.com",
    clientSecret: Redacted.make(`S3CRET-conformance-${counter}`)
  }
}

const slotOf = (client: Client) => Effect.flatMap(TokenStore, (store) => store.forClient(client))

/** A token set issued `now`, whose refresh token lives `refreshMs`. */
const tokens = (n: number, refreshMs = 3_600_000): StoredTokenSet => {
  const now = Date.now()
  return {
    tokens: TokenSet.make({
      accessToken: Redacted.make(`AT-secret-access-${900 + n}`),
      refreshToken: Redacted.make(`RT-secret-refresh-${900 + n}`),
      expiresAt: new Date(Math.floor(now / 1000) * 1000 + 600_000),
      refreshTokenExpiresAt: new Date(now + refreshMs)
    }),
    sentAt: now - 12,
    receivedAt: now,
    serverDate: n % 2 === 0 ? undefined : Math.floor(now / 1000) * 1000
  }
}

const sameTokens = (a: StoredTokenSet, b: StoredTokenSet): boolean =>
  Redacted.value(a.tokens.accessToken) === Redacted.value(b.tokens.accessToken) &&
  Redacted.value(a.tokens.refreshToken) === Redacted.value(b.tokens.refreshToken) &&
  a.tokens.expiresAt.getTime() === b.tokens.expiresAt.getTime() &&
  a.tokens.refreshTokenExpiresAt.getTime() === b.tokens.refreshTokenExpiresAt.getTime() &&
  a.sentAt === b.sentAt && a.receivedAt === b.receivedAt && a.serverDate === b.serverDate

const written = (slot: Slot, stored: StoredTokenSet, expected: Option.Option<string> = Option.none()) =>
  Effect.flatMap(slot.put(stored, expected), (entry) =>
    Option.match(entry, {
      onNone: () => Effect.dieMessage("expected the write to succeed"),
      onSome: Effect.succeed<Entry>
    }))

const latestEntry = (slot: Slot) =>
  Effect.flatMap(slot.latest, (entry) =>
    Option.match(entry, {
      onNone: () => Effect.dieMessage("expected an entry"),
      onSome: Effect.succeed<Entry>
    }))

/** Waits (on the live clock, at most `seconds`) until `condition` holds. */
const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>, what: string, seconds = 20) =>
  Effect.gen(function*() {
    const deadline = Date.now() + seconds * 1000
    while (!(yield* condition)) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`expected ${what} within ${seconds} s`)
      yield* Effect.sleep("50 millis")
    }
  })

/** @internal */
export const cases: ReadonlyArray<Conformance.Case> = [
  {
    name: "a new slot is empty",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      yield* check(Option.isNone(yield* slot.latest), "no entry in a new slot")
    })
  },
  {
    name: "put on an empty slot writes an entry that reads back the same",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      for (const n of [1, 2]) {
        const stored = tokens(n)
        const seen = Option.map(yield* slot.latest, (entry) => entry.version)
        const entry = yield* written(slot, stored, seen)
        const read = yield* latestEntry(slot)
        yield* check(read.version === entry.version, "the written version to be the latest")
        yield* check(sameTokens(read.tokens, stored), "the token set and its times to read back unchanged")
        yield* check(!read.invalidated && !read.refreshClaimed, "a new entry to be neither invalidated nor claimed")
      }
    })
  },
  {
    name: "put is a compare-and-set on the version",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      const first = yield* written(slot, tokens(1))
      yield* check(Option.isNone(yield* slot.put(tokens(2), Option.none())), "a put expecting no entry to be refused")
      const stored = tokens(3)
      const second = yield* written(slot, stored, Option.some(first.version))
      yield* check(second.version !== first.version, "every write to get a new version")
      const late = yield* slot.put(tokens(4), Option.some(first.version))
      yield* check(Option.isNone(late), "a put expecting an old version to be refused")
      const read = yield* latestEntry(slot)
      yield* check(read.version === second.version && sameTokens(read.tokens, stored), "the newer entry kept")
    })
  },
  {
    name: "invalidate marks only the current version, once",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      const stored = tokens(1)
      const first = yield* written(slot, stored)
      yield* check(yield* slot.invalidate(first.version), "the current version to be invalidated")
      yield* check(!(yield* slot.invalidate(first.version)), "a second invalidation to change nothing")
      const read = yield* latestEntry(slot)
      yield* check(read.invalidated && !read.refreshClaimed, "the entry invalidated, its refresh token still usable")
      yield* check(sameTokens(read.tokens, stored), "an invalidated entry to keep its token set")
      const second = yield* written(slot, tokens(2), Option.some(first.version))
      yield* check(!(yield* slot.invalidate(first.version)), "a late invalidation of an old version to change nothing")
      const after = yield* latestEntry(slot)
      yield* check(after.version === second.version && !after.invalidated, "the newer entry left alone")
    })
  },
  {
    name: "one lease at a time, released only by its holder",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      const lease = Option.getOrThrow(yield* slot.acquireLease(30_000))
      yield* check(Option.isNone(yield* slot.acquireLease(30_000)), "a second acquire to find the lease held")
      yield* slot.releaseLease({ id: "forged", ttlMs: 30_000 })
      yield* check(Option.isNone(yield* slot.acquireLease(30_000)), "a forged release to leave the lease held")
      yield* slot.releaseLease(lease)
      const next = yield* slot.acquireLease(30_000)
      yield* check(Option.isSome(next) && next.value.id !== lease.id, "a new lease, with a new id, after release")
      yield* slot.releaseLease(lease)
      yield* check(Option.isNone(yield* slot.acquireLease(30_000)), "a stale holder's release to leave the new lease")
    })
  },
  {
    name: "a lease expires on its own",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      yield* check(Option.isSome(yield* slot.acquireLease(300)), "the lease")
      yield* eventually(Effect.map(slot.acquireLease(30_000), Option.isSome), "the lease to expire")
    })
  },
  {
    name: "a refresh token is claimed once, by the lease holder, for the current version",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      const entry = yield* written(slot, tokens(1))
      const lease = Option.getOrThrow(yield* slot.acquireLease(30_000))
      yield* check(!(yield* slot.claimRefresh({ id: "forged", ttlMs: 30_000 }, entry.version)), "no claim without it")
      yield* check(!(yield* slot.claimRefresh(lease, "not-a-version")), "no claim of another version")
      yield* check(yield* slot.claimRefresh(lease, entry.version), "the holder's claim")
      yield* check(!(yield* slot.claimRefresh(lease, entry.version)), "no second claim")
      yield* check((yield* latestEntry(slot)).refreshClaimed, "the entry to show the claim")
      const next = yield* written(slot, tokens(2), Option.some(entry.version))
      yield* check(!next.refreshClaimed, "a new entry's refresh token unclaimed")
      yield* slot.releaseLease(lease)
      yield* check(!(yield* slot.claimRefresh(lease, next.version)), "no claim after the lease was released")
    })
  },
  {
    name: "a holder gives back a refresh token it could not use; nobody else can",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      const entry = yield* written(slot, tokens(1))
      const lease = Option.getOrThrow(yield* slot.acquireLease(30_000))
      yield* check(yield* slot.claimRefresh(lease, entry.version), "the holder's claim")
      yield* slot.unclaimRefresh({ id: "forged", ttlMs: 30_000 }, entry.version)
      yield* check((yield* latestEntry(slot)).refreshClaimed, "a forged give-back to change nothing")
      yield* slot.unclaimRefresh(lease, entry.version)
      yield* check(!(yield* latestEntry(slot)).refreshClaimed, "the refresh token given back")
      yield* check(yield* slot.claimRefresh(lease, entry.version), "a new claim after the give-back")
    })
  },
  {
    name: "two clients share nothing: another id, or the same id at another base URL",
    run: Effect.gen(function*() {
      const client = freshClient()
      const slot = yield* slotOf(client)
      const others = [
        { ...client, clientId: `${client.clientId}-other` },
        { ...client, baseUrl: "https://staging.forecaster.cairhealth.com" }
      ]
      yield* written(slot, tokens(1))
      yield* check(Option.isSome(yield* slot.acquireLease(30_000)), "the lease")
      for (const other of others) {
        const otherSlot = yield* slotOf(other)
        yield* check(Option.isNone(yield* otherSlot.latest), "no entry of the other client")
        yield* check(Option.isSome(yield* otherSlot.acquireLease(30_000)), "a lease of its own")
      }
    })
  },
  {
    name: "two handles on one client see the same entry and lease",
    run: Effect.gen(function*() {
      const client = freshClient()
      const one = yield* slotOf(client)
      const two = yield* slotOf(client)
      const entry = yield* written(one, tokens(1))
      yield* check((yield* latestEntry(two)).version === entry.version, "the other handle to read the entry")
      yield* check(Option.isSome(yield* one.acquireLease(30_000)), "the lease")
      yield* check(Option.isNone(yield* two.acquireLease(30_000)), "the other handle to find it held")
    })
  },
  {
    name: "awaitChange ends on a write, on a release, at once when the lease is free, and after maxWaitMs",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      yield* slot.awaitChange(Option.none(), 60_000) // no lease held: at once
      const first = yield* written(slot, tokens(1))
      const lease = Option.getOrThrow(yield* slot.acquireLease(60_000))
      yield* slot.awaitChange(Option.some(first.version), 100) // nothing changes: ends after maxWaitMs
      const onWrite = yield* Effect.fork(slot.awaitChange(Option.some(first.version), 60_000))
      yield* Effect.sleep("50 millis")
      const second = yield* written(slot, tokens(2), Option.some(first.version))
      yield* Fiber.join(onWrite)
      const onRelease = yield* Effect.fork(slot.awaitChange(Option.some(second.version), 60_000))
      yield* Effect.sleep("50 millis")
      yield* slot.releaseLease(lease)
      yield* Fiber.join(onRelease)
    })
  },
  {
    name: "changes tells of writes, invalidations and releases",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      const seen = yield* Effect.fork(Stream.runCollect(Stream.take(slot.changes, 3)))
      // A subscription may take a moment to reach a remote store: write until it is told.
      const lease = Option.getOrThrow(yield* slot.acquireLease(60_000))
      yield* Effect.sleep("300 millis")
      const entry = yield* written(slot, tokens(1))
      yield* slot.invalidate(entry.version)
      yield* slot.releaseLease(lease)
      const changes = Chunk.toReadonlyArray(yield* Fiber.join(seen))
      yield* check(
        changes[0]?._tag === "Written" && changes[0].version === entry.version &&
          changes[1]?._tag === "Invalidated" && changes[1].version === entry.version &&
          changes[2]?._tag === "Released",
        `Written, Invalidated and Released in order, got ${changes.map((change) => change._tag).join(", ")}`
      )
    })
  },
  {
    name: "an entry lives no longer than its refresh token",
    run: Effect.gen(function*() {
      const slot = yield* slotOf(freshClient())
      yield* written(slot, tokens(1, 1_000))
      yield* eventually(Effect.map(slot.latest, Option.isNone), "the entry to be gone once its refresh token expired")
    })
  }
]
