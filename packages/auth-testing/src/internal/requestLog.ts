import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { RequestLogEntry } from "../FakeCairServer.js"

/** @internal */
export interface RequestLog {
  /** Records a request on arrival; `complete` fills in the status sent. */
  readonly append: (entry: RequestLogEntry) => Effect.Effect<void>
  readonly complete: (entry: RequestLogEntry, status: number) => Effect.Effect<void>
  readonly entries: Effect.Effect<ReadonlyArray<RequestLogEntry>>
  readonly count: (path?: string) => Effect.Effect<number>
  readonly awaitCount: (n: number, path?: string) => Effect.Effect<void>
  readonly reset: Effect.Effect<void>
}

const countIn = (entries: ReadonlyArray<RequestLogEntry>, path: string | undefined) =>
  path === undefined ? entries.length : entries.filter((entry) => entry.path === path).length

/** @internal */
export const make: Effect.Effect<RequestLog> = Effect.map(
  SubscriptionRef.make<ReadonlyArray<RequestLogEntry>>([]),
  (ref) => ({
    append: (entry) => SubscriptionRef.update(ref, (entries) => [...entries, entry]),
    complete: (entry, status) =>
      SubscriptionRef.update(ref, (entries) => entries.map((e) => e === entry ? { ...e, status } : e)),
    entries: SubscriptionRef.get(ref),
    count: (path) => Effect.map(SubscriptionRef.get(ref), (entries) => countIn(entries, path)),
    awaitCount: (n, path) =>
      ref.changes.pipe(
        Stream.filter((entries) => countIn(entries, path) >= n),
        Stream.take(1),
        Stream.runDrain
      ),
    reset: SubscriptionRef.set(ref, [])
  })
)
