import * as CairAuth from "@cair/auth/CairAuth"
import * as TokenScope from "@cair/auth/TokenScope"
import * as TokenStore from "@cair/auth/TokenStore"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { constVoid } from "effect/Function"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Api from "../CairAuthClient.js"
import { ClientClosed } from "../CairAuthClient.js"
import * as Fetch from "./fetch.js"
import * as Meter from "./meter.js"
import * as RedisStore from "./redisStore.js"

/*
 * A thin shell over the core (`@cair/auth`'s `CairAuth`), which alone decides about tokens: usable, refresh due,
 * wait, fail. What the shell keeps is the core's last answer, unwrapped once so that a cache hit does not enter the
 * Effect runtime, and checked on every read against both clocks, as the core does: the wall clock (`Date.now()`,
 * which goes on while a machine is suspended) and the monotonic clock (`performance.now()`, which no step of the
 * wall clock moves):
 *
 * - before the answer's refresh time on both: the cached token, at once;
 * - from there to its end on both: the cached token, at once, and the core is asked in the background (it starts the
 *   refresh, or says it is under way or resting; its answer replaces the snapshot);
 * - past its end on either clock (a forward jump of the wall clock: a suspended machine; a paused process; a step
 *   back, which the monotonic clock does not follow): the call waits for the core, which decides on both of its
 *   clocks and answers with deadlines as its clocks read now.
 *
 * No timer and no event flag: nothing can disagree with the core. One thing changes the core's answer without a call:
 * with a shared store (`redisUrl`), another process's 401 invalidates the fleet's token. The core's `Invalidated`
 * event for the snapshot's generation drops the snapshot, so the next caller asks the core.
 */

/** The core's last answer, as the Promise side reads it: its deadlines on each clock. */
interface Snapshot {
  readonly value: string
  /** Resolved with `value`: handing out the same settled promise is cheaper than making one per call. */
  readonly promise: Promise<string>
  readonly refreshAt: number
  readonly usableUntil: number
  /** The same two deadlines on `performance.now()`. */
  readonly monotonicRefreshAt: number
  readonly monotonicUsableUntil: number
  /** The core's generation of the token: an invalidation names it. */
  readonly generation: number
}

/**
 * Every client runs on this one runtime, so that a client costs its own state only (the per-client part is a scope,
 * the core's service and the snapshot): integrators hold one client per organization, thousands in one process.
 */
const runtime = Runtime.defaultRuntime

let sharedHttpClient: HttpClient.HttpClient | undefined
/** The platform's `fetch` client, built once per process on first use; each client provides its own `fetch` to it. */
const fetchHttpClient = (): HttpClient.HttpClient =>
  sharedHttpClient ??= Runtime.runSync(runtime)(Effect.provide(HttpClient.HttpClient, FetchHttpClient.layer))

/** The adapter's own options, checked with the core's in one pass: type errors are `InvalidOptions` too. */
const isFunction = (description: string) =>
  Schema.declare((u: unknown): u is (...args: ReadonlyArray<never>) => unknown => typeof u === "function", {
    description
  })
const adapterOptions = {
  logLevel: Schema.Literal("Debug", "Info", "Warning", "Error", "None"),
  fetch: isFunction("a fetch function"),
  onEvent: isFunction("a function"),
  redisUrl: Schema.NonEmptyString
}

const isPromiseLike = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === "object" || typeof u === "function") && u !== null &&
  typeof (u as { then?: unknown }).then === "function"

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException("This operation was aborted", "AbortError")

/** @internal */
export const make = (options: Api.CairAuthClientOptions): Api.CairAuthClient => {
  const validated = CairAuth.validateOptions(options, adapterOptions)
  if (Either.isLeft(validated)) throw validated.left
  const fetchImpl = options.fetch ?? globalThis.fetch
  const logLevel = LogLevel.fromLiteral(options.logLevel ?? "Warning")
  const onEvent = options.onEvent

  /** Counted here, reported with the core's reads to a `meterProvider`: see `meter.ts`. */
  const reads: Meter.Reads = { cached: 0, waited: 0, failed: 0 }
  // Without a `meterProvider` nothing is recorded: Effect's metric registry is out of reach of Promise code, and a
  // client's series there would cost it 8 KiB of heap, half again what the rest of it costs.
  const coreOptions = options.meterProvider === undefined || options.metrics === false
    ? { ...options, metrics: false }
    : { ...options, meterProvider: Meter.withReads(options.meterProvider, options.clientId, reads) }

  const scope = Runtime.runSync(runtime)(Scope.make())
  // With `redisUrl`, the fleet's shared store (`@cair/auth-redis`, loaded in the background); without, none: the
  // client's own cache is its only one.
  const redis = options.redisUrl === undefined
    ? undefined
    : Runtime.runSync(runtime)(Scope.extend(RedisStore.make(options.redisUrl), scope))
  /** Every call into the core waits for the store to load, and rejects if it cannot (see `RedisStore.usable`). */
  const usable = redis?.usable
  const httpClient = HttpClient.transformResponse(
    fetchHttpClient(),
    Effect.provideService(FetchHttpClient.Fetch, fetchImpl)
  )
  const auth = Runtime.runSync(runtime)(
    CairAuth.makeFromOptions(coreOptions).pipe(
      // Checked above already.
      Effect.orDie,
      (make) => redis === undefined ? make : Effect.provideService(make, TokenStore.TokenStore, redis.store),
      Effect.provideService(HttpClient.HttpClient, httpClient),
      Effect.tap((auth) =>
        onEvent === undefined && redis === undefined ? Effect.void : Effect.forkIn(
          Stream.runForEach(auth.events, (event) =>
            Effect.sync(() => {
              // Another process of the fleet was refused the token (a 401): the core invalidated it, and the
              // snapshot must not hand it out any more. Dropped before `onEvent` hears of it.
              if (event._tag === "Invalidated") invalidated(event.generation)
              // An observer's exception, or its promise's rejection, must not break token handling.
              try {
                const result: unknown = onEvent?.(event)
                if (isPromiseLike(result)) result.then(undefined, constVoid)
              } catch {
                // As above.
              }
            })),
          scope
        )
      ),
      Scope.extend(scope),
      Logger.withMinimumLogLevel(logLevel)
    )
  )

  let closed = false
  let snapshot: Snapshot | undefined
  /** The calls into the core still running: `close()` interrupts them. */
  const running = new Set<Fiber.RuntimeFiber<unknown, unknown>>()
  /** One call into the core shared by every caller waiting for a token: 10 000 cold callers cost one fiber. */
  let pending: Promise<string> | undefined
  /**
   * Counts invalidations: an answer of the core that was under way when the token was invalidated must not bring it
   * back into the snapshot, and callers arriving after it do not join that answer.
   */
  let epoch = 0

  /** Runs an effect of the core and settles like a plain Promise API: the typed error itself, not a wrapper. */
  const run = <A>(effect: Effect.Effect<A, unknown>): Promise<A> => {
    if (closed) return Promise.reject(new ClientClosed())
    return new Promise((resolve, reject) => {
      const gated = usable === undefined ? effect : Effect.zipRight(usable, effect)
      const fiber = Runtime.runFork(runtime)(Logger.withMinimumLogLevel(gated, logLevel))
      running.add(fiber)
      fiber.addObserver((exit) => {
        running.delete(fiber)
        if (Exit.isSuccess(exit)) return resolve(exit.value)
        if (closed || Cause.isInterruptedOnly(exit.cause)) return reject(new ClientClosed())
        reject(Option.getOrElse(Cause.failureOption(exit.cause), () => Cause.squash(exit.cause)))
      })
    })
  }

  const remember = (answeredIn: number) => (token: CairAuth.AccessToken): string => {
    const value = Redacted.value(token.token)
    if (answeredIn === epoch && !closed) {
      // The core's deadlines are on the wall clock as it reads now: read both clocks at one instant to carry them over.
      const offset = performance.now() - Date.now()
      snapshot = {
        value,
        promise: snapshot?.value === value ? snapshot.promise : Promise.resolve(value),
        refreshAt: token.refreshAt,
        usableUntil: token.usableUntil,
        monotonicRefreshAt: token.refreshAt + offset,
        monotonicUsableUntil: token.usableUntil + offset,
        generation: token.generation
      }
    }
    return value
  }

  /** Asks the core (sharing the call under way) and keeps its answer. */
  const ask = (): Promise<string> => {
    if (pending === undefined) {
      const next = run(auth.get).then(remember(epoch))
      const settled = () => {
        if (pending === next) pending = undefined
      }
      next.then(settled, settled)
      pending = next
      return next
    }
    // This caller shares the call under way with another: the core counts that call once.
    pending.then(() => reads.waited++, () => reads.failed++)
    return pending
  }

  /** The caller's view of a shared promise: rejects at once on abort, leaving the promise to the others. */
  const abortable = (promise: Promise<string>, signal: AbortSignal | undefined): Promise<string> => {
    if (signal === undefined) return promise
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal))
      signal.addEventListener("abort", onAbort, { once: true })
      promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort))
    })
  }

  const getAccessToken = (callOptions?: Api.CallOptions): Promise<string> => {
    const signal = callOptions?.signal
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    const current = snapshot
    if (current !== undefined) {
      const now = Date.now()
      const monotonicNow = performance.now()
      if (now < current.usableUntil && monotonicNow < current.monotonicUsableUntil) {
        // In the refresh window: the core starts the refresh (or knows one is under way); this caller does not wait.
        // A failure reaches the core's log and `onEvent`; the valid token keeps being served.
        // Else the read is the adapter's own (the core counts the one it is asked).
        if ((now >= current.refreshAt || monotonicNow >= current.monotonicRefreshAt) && pending === undefined) {
          ask().catch(constVoid)
        } else reads.cached++
        return current.promise
      }
    }
    return abortable(ask(), signal)
  }

  /** Drops the snapshot and the answer under way: the next caller asks the core, which knows what is invalidated. */
  const forget = () => {
    epoch++
    snapshot = undefined
    pending = undefined
  }

  /** The core invalidated the token of `generation` (here, or told by the fleet): the snapshot may not hold it. */
  const invalidated = (generation: number) => {
    if (snapshot?.generation === generation) forget()
  }

  /** The API answered 401 to `value`: the core decides whether to retry; the next caller asks it again. */
  const rejected = (value: string) => {
    forget()
    return run(auth.rejected(Redacted.make(value)))
  }

  const authFetch = Fetch.make({
    fetch: fetchImpl,
    // The base URL the core resolved: the same one its token endpoints use.
    scope: () => run(Effect.orDie(TokenScope.make(auth.baseUrl))),
    tokens: { get: (signal) => getAccessToken({ signal }), rejected }
  })

  /** The one closing: every caller of `close()` waits for it, so that "closed" means released. */
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    if (closing === undefined) {
      closed = true
      forget()
      closing = Runtime.runPromise(runtime)(
        Effect.zipRight(Fiber.interruptAll([...running]), Scope.close(scope, Exit.void))
      )
    }
    return closing
  }

  const client: Api.CairAuthClient = {
    getAccessToken,
    getAuthorizationHeader: (callOptions) => getAccessToken(callOptions).then((token) => `Bearer ${token}`),
    fetch: authFetch,
    invalidate: () => {
      forget()
      return run(auth.invalidate)
    },
    close,
    [Symbol.asyncDispose]: close
  }
  const description = {
    clientId: options.clientId,
    baseUrl: Either.match(TokenScope.make(options.baseUrl ?? CairAuth.defaultBaseUrl), {
      onLeft: () => undefined,
      onRight: (scope) => scope.baseUrl
    })
  }
  return Object.defineProperties(client, {
    toJSON: { value: () => description },
    toString: { value: () => `CairAuthClient(${JSON.stringify(description)})` },
    [Symbol.for("nodejs.util.inspect.custom")]: { value: () => `CairAuthClient ${JSON.stringify(description)}` }
  })
}
