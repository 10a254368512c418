import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { Fault, InjectOptions } from "../FakeCairServer.js"

/** @internal */
export interface Faults {
  readonly inject: (fault: Fault, options?: InjectOptions) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
  /** Takes the fault for a request to `path`: the first queued one whose path matches. */
  readonly take: (path: string) => Effect.Effect<Option.Option<Fault>>
}

interface Queued {
  readonly fault: Fault
  readonly path: string | undefined
  readonly remaining: number
}

/** @internal */
export const make: Effect.Effect<Faults> = Effect.map(Ref.make<ReadonlyArray<Queued>>([]), (ref) => ({
  inject: (fault, options) =>
    Ref.update(ref, (queue) => [...queue, { fault, path: options?.path, remaining: options?.times ?? 1 }]),
  clear: Ref.set(ref, []),
  take: (path) =>
    Ref.modify(ref, (queue) => {
      const index = queue.findIndex((queued) => queued.path === undefined || queued.path === path)
      if (index === -1) {
        return [Option.none(), queue]
      }
      const taken = queue[index]!
      const rest = taken.remaining > 1
        ? queue.map((queued, i) => i === index ? { ...queued, remaining: queued.remaining - 1 } : queued)
        : queue.filter((_, i) => i !== index)
      return [Option.some(taken.fault), rest]
    })
}))
