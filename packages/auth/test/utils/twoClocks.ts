/**
 * A `Clock` for the two-clock tests: the `TestClock` underneath, with a wall-clock reading that can move on its
 * own. `adjust` moves both clocks (time passing), `stepWall` only the wall clock: an NTP correction or a VM
 * migration (either way), or a suspended machine (ahead: the monotonic clock and the timers stand still while
 * the wall clock goes on).
 *
 * Run the code under test with `Effect.withClock(clocks.clock)`. Inside it `TestClock.adjust` would find this
 * clock instead of the `TestClock`: use `clocks.adjust`.
 */
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"

export interface TwoClocks {
  readonly clock: Clock.Clock
  /** Time passes: both clocks move, sleepers wake. */
  readonly adjust: (duration: Duration.DurationInput) => Effect.Effect<void>
  /** Only the wall clock moves, by `ms` (negative: back). */
  readonly stepWall: (ms: number) => Effect.Effect<void>
  /** A machine suspended for `ms`: the wall clock goes on, the monotonic clock and the timers do not. */
  readonly suspend: (ms: number) => Effect.Effect<void>
  /** The true time, for a server whose clock did not step: the `TestClock`'s. */
  readonly trueNow: () => number
}

export const makeTwoClocks: Effect.Effect<TwoClocks> = Effect.map(TestClock.testClock(), (test) => {
  let wallOffset = 0
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => test.unsafeCurrentTimeMillis() + wallOffset,
    currentTimeMillis: Effect.sync(() => test.unsafeCurrentTimeMillis() + wallOffset),
    unsafeCurrentTimeNanos: () => test.unsafeCurrentTimeNanos(),
    currentTimeNanos: Effect.sync(() => test.unsafeCurrentTimeNanos()),
    sleep: (duration) => test.sleep(duration)
  }
  const stepWall = (ms: number) =>
    Effect.sync(() => {
      wallOffset += ms
    })
  return {
    clock,
    adjust: (duration) => test.adjust(duration),
    stepWall,
    suspend: stepWall,
    trueNow: () => test.unsafeCurrentTimeMillis()
  }
})
