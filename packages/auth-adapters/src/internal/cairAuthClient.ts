import { CairAuth, type TokenEvent, TokenScope } from "@cair/auth"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import { constVoid } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type * as Api from "../CairAuthClient.js"
import { ClientClosed } from "../CairAuthClient.js"
import * as Fetch from "./fetch.js"

/**
 * What the Promise side keeps of the core's cache: the token of one generation, unwrapped once,
 * with its deadlines. Read without entering the Effect runtime.
 */
interface Snapshot {
  readonly value: string
  /** Resolved with `value`: handing out the same settled promise is cheaper than making one per call. */
  readonly promise: Promise<string>
  readonly generation: number
  readonly refreshAt: number
  readonly usableUntil: number
}

/** Node fires a longer timeout at once; a token living longer is re-checked after this. */
const maxTimerDelayMs = 2 ** 31 - 1

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException("This operation was aborted", "AbortError")

/** @internal */
export const make = (options: Api.CairAuthClientOptions): Api.CairAuthClient => {
  const validated = CairAuth.validateOptions(options)
  if (Either.isLeft(validated)) throw validated.left
  const fetchImpl = options.fetch ?? globalThis.fetch

  const runtime = ManagedRuntime.make(
    CairAuth.layer(options).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetchImpl)),
      Layer.merge(Logger.minimumLogLevel(LogLevel.fromLiteral(options.logLevel ?? "Warning")))
    )
  )

  let snapshot: Snapshot | undefined
  /**
   * The snapshot while it is before its refresh time: a cache hit reads nothing else, not even the
   * clock (`Date.now()` costs as much as the rest of the call). An unref'd timer clears it at
   * `refreshAt`; a timer firing late is covered by the refresh window (60 s by default) that still
   * separates `refreshAt` from `usableUntil`.
   */
  let hot: Snapshot | undefined
  let hotTimer: ReturnType<typeof setTimeout> | undefined
  /** Within the refresh window, no need to ask the core again before this: a refresh is under way or resting. */
  let quietUntil = 0
  let closed = false
  /** The newest generation known to be invalidated. */
  let retired = 0
  /** One runtime call shared by every caller waiting for a token: 10 000 cold callers cost one fiber, not 10 000. */
  let pending: Promise<string> | undefined

  const onEvent = (event: TokenEvent.TokenEvent) => {
    if (event._tag === "Failed") quietUntil = event.retryAt.getTime()
    else if (event._tag === "Invalidated") retire(event.generation)
    else forget()
    if (options.onEvent !== undefined) {
      try {
        options.onEvent(event)
      } catch {
        // An observer's exception must not break token handling.
      }
    }
  }
  runtime.runFork(
    Effect.flatMap(
      CairAuth.CairAuth,
      (auth) => Stream.runForEach(auth.events, (event) => Effect.sync(() => onEvent(event)))
    )
  )

  /** Runs an effect of the core and settles like a plain Promise API: the typed error itself, not a wrapper. */
  const run = <A>(effect: Effect.Effect<A, unknown, CairAuth.CairAuth>): Promise<A> => {
    if (closed) return Promise.reject(new ClientClosed())
    return runtime.runPromiseExit(effect).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      if (closed || Cause.isInterruptedOnly(exit.cause)) throw new ClientClosed()
      throw Option.getOrElse(Cause.failureOption(exit.cause), () => Cause.squash(exit.cause))
    })
  }

  const forget = () => {
    snapshot = hot = undefined
    clearTimeout(hotTimer)
  }

  /**
   * No token of this generation or older is cached again: an answer of the core that was under way when
   * it was invalidated must not bring it back. Callers arriving from now on do not join that answer either.
   */
  const retire = (generation: number) => {
    retired = Math.max(retired, generation)
    pending = undefined
    if (snapshot !== undefined && snapshot.generation <= retired) forget()
  }

  const remember = (token: CairAuth.AccessToken): string => {
    if (token.generation <= retired) return Redacted.value(token.token)
    if (snapshot?.generation !== token.generation) {
      forget()
      const value = Redacted.value(token.token)
      snapshot = {
        value,
        promise: Promise.resolve(value),
        generation: token.generation,
        refreshAt: token.refreshAt,
        usableUntil: token.usableUntil
      }
      const untilRefresh = token.refreshAt - Date.now()
      if (untilRefresh > 0) {
        hot = snapshot
        hotTimer = setTimeout(() => (hot = undefined), Math.min(untilRefresh, maxTimerDelayMs))
        hotTimer.unref?.()
      }
    }
    // Asked within the refresh window: the core has started a background refresh (or is resting),
    // and its next event tells when to ask again.
    quietUntil = Date.now() >= token.refreshAt ? Infinity : 0
    return snapshot.value
  }

  const shared = (): Promise<string> => {
    if (pending === undefined) {
      const next = run(Effect.flatMap(CairAuth.CairAuth, (auth) => auth.get)).then(remember)
      const settled = () => {
        if (pending === next) pending = undefined
      }
      next.then(settled, settled)
      pending = next
    }
    return pending
  }

  /** Within the refresh window: has the core start a background refresh; the caller is not made to wait. */
  const refreshSoon = () => {
    quietUntil = Infinity
    // A failure here reaches the core's log and `onEvent`; the valid token keeps being served.
    shared().catch(constVoid)
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
    if (hot !== undefined) return hot.promise
    const current = snapshot
    if (current !== undefined) {
      const now = Date.now()
      if (now < current.usableUntil) {
        if (now >= current.refreshAt && now >= quietUntil) refreshSoon()
        return current.promise
      }
    }
    return abortable(shared(), signal)
  }

  const invalidateToken = (value: string) => {
    if (snapshot?.value === value) retire(snapshot.generation)
    return run(Effect.flatMap(CairAuth.CairAuth, (auth) => auth.invalidateToken(Redacted.make(value))))
  }

  const authFetch = Fetch.make({
    fetch: fetchImpl,
    // The base URL the core resolved: the same one its token endpoints use.
    scope: () => run(Effect.flatMap(CairAuth.CairAuth, (auth) => Effect.orDie(TokenScope.make(auth.baseUrl)))),
    tokens: { get: (signal) => getAccessToken({ signal }), invalidate: invalidateToken }
  })

  const close = async () => {
    if (closed) return
    closed = true
    forget()
    await runtime.dispose()
  }

  const client: Api.CairAuthClient = {
    getAccessToken,
    getAuthorizationHeader: (callOptions) => getAccessToken(callOptions).then((token) => `Bearer ${token}`),
    fetch: authFetch,
    invalidate: () => {
      if (snapshot === undefined) pending = undefined
      else retire(snapshot.generation)
      return run(Effect.flatMap(CairAuth.CairAuth, (auth) => auth.invalidate))
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
