/**
 * Helpers for tests that run the client over real sockets while time is a `TestClock`: wait for a
 * condition on the event loop (never for a fixed time), move the clock to the instant the client waits
 * for, check that nothing is left running, and capture every log line and span for the secret scan.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import type * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import { inspect } from "node:util"

/** One turn of the Node event loop, so that real sockets make progress. Not a sleep on any clock. */
export const tick: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * How long a wait on the event loop may last before it fails as a hang. Conditions are met within
 * milliseconds on loopback, but CI runs on a busy 2-core machine where a process may not be scheduled for
 * seconds: the bound only turns a hang into a clear failure, so it is far above any real wait.
 */
export const hangBoundMs = 30_000

/** Turns the event loop until `condition` holds, failing with `what` after `boundMs` (a hang). */
export const waitFor = <E, R>(
  condition: Effect.Effect<boolean, E, R>,
  what: () => string | Effect.Effect<string, E, R>,
  boundMs = hangBoundMs
): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    const giveUpAt = performance.now() + boundMs
    while (!(yield* condition)) {
      if (performance.now() > giveUpAt) {
        const description = what()
        return yield* Effect.dieMessage(
          `gave up waiting for ${typeof description === "string" ? description : yield* description}`
        )
      }
      yield* tick
    }
  })

/** The instants the fibers of the test are asleep until, on the `TestClock`. */
export const sleeps: Effect.Effect<ReadonlyArray<number>> = Effect.map(TestClock.sleeps(), Chunk.toReadonlyArray)

/**
 * Moves the `TestClock` to `at` once the client waits for that instant (a retry delay or a timeout)
 * and the server has received `requests` requests: the clock never runs ahead of the sockets.
 */
export const wakeAt = <E, R>(at: number, requests: number, count: Effect.Effect<number, E, R>) =>
  Effect.zipRight(
    waitFor(
      Effect.zipWith(count, sleeps, (seen, pending) => seen >= requests && pending.includes(at)),
      () =>
        Effect.zipWith(count, sleeps, (seen, pending) =>
          `a sleep until ${at} after ${requests} requests (seen ${seen}, sleeps ${pending})`)
    ),
    TestClock.setTime(at)
  )

/** The exit of `fiber`, waiting on the event loop for it. */
export const awaitExit = <A, E>(fiber: Fiber.Fiber<A, E>, what = "the caller to finish") =>
  Effect.zipRight(
    waitFor(Effect.map(Fiber.poll(fiber), Option.isSome), () => what),
    Fiber.await(fiber)
  )

/** Fails unless every fiber the supervisor tracked has ended (allowing a few turns for them to finish). */
export const assertNoFibers = (supervisor: Supervisor.Supervisor<Array<Fiber.RuntimeFiber<unknown, unknown>>>) =>
  waitFor(
    Effect.map(supervisor.value, (fibers) => fibers.length === 0),
    () =>
      Effect.map(
        supervisor.value,
        (fibers) => `every fiber to end; still running: ${fibers.map((fiber) => fiber.id().id).join(", ")}`
      )
  )

/** Kinds of handle that would keep a process alive after a client closed. */
const tracked = new Set(["TCPSocketWrap", "TCPServerWrap", "Timeout"])

const handleCounts = (kinds: ReadonlySet<string>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) {
    if (kinds.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

/**
 * A snapshot of the process's sockets, servers and (ref'd) timers; `settled` waits until there are no
 * more than in the snapshot. `timers: false` leaves timers out (the `TestClock` forks a live one of its own).
 */
export const handles = (options: { readonly timers?: boolean } = {}) => {
  const kinds = options.timers === false ? new Set(["TCPSocketWrap", "TCPServerWrap"]) : tracked
  const baseline = handleCounts(kinds)
  const excess = () => {
    const now = handleCounts(kinds)
    return Object.entries(now).filter(([kind, n]) => n > (baseline[kind] ?? 0)).map(([kind, n]) => `${kind} ${n}`)
  }
  return {
    baseline,
    settled: waitFor(
      Effect.sync(() => excess().length === 0),
      () => `sockets and timers to close; still open: ${excess().join(", ")}`
    ),
    settledPromise: async (): Promise<void> => {
      const giveUpAt = performance.now() + hangBoundMs
      while (excess().length > 0) {
        if (performance.now() > giveUpAt) throw new Error(`still open after close: ${excess().join(", ")}`)
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
  }
}

/** A captured span: its name, attributes, events and how it ended. */
export interface CapturedSpan {
  readonly name: string
  readonly attributes: ReadonlyArray<readonly [string, unknown]>
  readonly events: ReadonlyArray<readonly [string, Record<string, unknown> | undefined]>
  readonly exit: string
}

/**
 * A logger at every level and a tracer recording every span (on top of the current tracer), to run a
 * program with: `capture.run(effect)`. `outputs` renders everything captured, for the secret scan.
 */
export const makeCapture = Effect.map(Effect.tracer, (base) => {
  const lines: Array<string> = []
  const spans: Array<Tracer.Span> = []
  const logger = Logger.make(({ annotations, cause, logLevel, message, spans: logSpans }) => {
    lines.push(
      `${logLevel.label} ${inspect(message, { depth: 20 })} ${inspect([...annotations], { depth: 20 })} ` +
        `${inspect(cause, { depth: 20 })} ${inspect([...logSpans], { depth: 5 })}`
    )
  })
  const tracer = Tracer.make({
    span: (...args) => {
      const span = base.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => base.context(f, fiber)
  })
  const captured = (): ReadonlyArray<CapturedSpan> =>
    spans.map((span) => ({
      name: span.name,
      attributes: [...span.attributes],
      // The native span keeps its events (log lines written inside it); another tracer may not.
      events: "events" in span && Array.isArray(span.events)
        ? span.events.map(([name, , attributes]: [string, bigint, Record<string, unknown>]) =>
          [name, attributes] as const
        )
        : [],
      exit: span.status._tag === "Ended" ? inspect(span.status.exit, { depth: 20 }) : "running"
    }))
  return {
    lines,
    spans: captured,
    run: <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      effect.pipe(
        Effect.withTracer(tracer),
        Effect.provide(Logger.add(logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      ),
    /** Every log line and every span (name, attributes, events, exit), labelled. */
    outputs: (): ReadonlyArray<readonly [string, string]> => [
      ...lines.map((line, i) => [`log line ${i}`, line] as const),
      ...captured().map((span) => [`span ${span.name}`, inspect(span, { depth: 20 })] as const)
    ]
  }
})
