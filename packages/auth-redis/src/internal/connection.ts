import { TokenStoreError } from "@cair/auth/TokenStore"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { createClient, ErrorReply } from "redis"

/** @internal */
export interface ConnectionOptions {
  readonly url: Redacted.Redacted<string>
  readonly commandTimeoutMs: number
  readonly connectTimeoutMs: number
}

/**
 * One connection to Redis, as the store uses it: commands that settle within the command timeout,
 * and channels. While Redis is down, frozen or unreachable, commands fail at once (no caller waits
 * on an outage already seen); one warning is logged per outage, and one line when Redis answers again.
 *
 * @internal
 */
export interface Connection {
  readonly command: <A>(operation: string, args: ReadonlyArray<string>) => Effect.Effect<A, TokenStoreError>
  /** Listens to `channel` until the scope closes. Subscribes in the background: never waits on Redis. */
  readonly subscribe: (channel: string, onMessage: (message: string) => void) => Effect.Effect<void, never, Scope.Scope>
}

type Status = "connecting" | "up" | "down"

/** The URL as logs may show it: no user name, no password, no query. */
const displayUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}`
  } catch {
    return "(unparseable URL)"
  }
}

const passwordOf = (url: string): string | undefined => {
  try {
    const parsed = new URL(url)
    return parsed.password === "" ? undefined : decodeURIComponent(parsed.password)
  } catch {
    return undefined
  }
}

/**
 * Why node-redis cannot use `url`, in words that never repeat it (it may hold a password): node-redis's own errors
 * (and the `input` of a WHATWG `TypeError`) quote it.
 */
const unusableUrl = (url: string): string => {
  const expected = "expected redis://[user:password@]host:port[/db], or rediss:// for TLS"
  try {
    const { protocol } = new URL(url)
    return protocol === "redis:" || protocol === "rediss:"
      ? `the Redis URL cannot be parsed (check its port, and the percent-encoding of the user name and password): ${expected}`
      : `the Redis URL's scheme is not redis: or rediss: (${expected})`
  } catch {
    return `the Redis URL is not a URL: ${expected}`
  }
}

/** Redis reconnects quickly, but never more often than every 1 s once it has failed a few times. */
const reconnectDelayMs = (retries: number): number => Math.min(50 * 2 ** retries, 1_000)

/** @internal */
export const connect = (options: ConnectionOptions): Effect.Effect<Connection, TokenStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(runtime)
    const url = Redacted.value(options.url)
    const where = displayUrl(url)
    const password = passwordOf(url)
    const scrub = (text: string): string =>
      (password === undefined ? text : text.split(password).join("<redacted>")).split(url).join(where)
    const describe = (error: unknown): string =>
      scrub(error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 200)

    const status = yield* Ref.make<Status>("connecting")
    const ready = yield* Deferred.make<void>()
    const startedAt = yield* Clock.currentTimeMillis

    const markUp = Effect.flatMap(Ref.getAndSet(status, "up"), (previous) =>
      Effect.zipRight(
        Deferred.succeed(ready, undefined),
        previous === "down"
          ? Effect.logInfo(`Redis token store at ${where} answers again: sharing tokens with the fleet`)
          : Effect.void
      ))
    const markDown = (why: string) =>
      Effect.flatMap(Ref.getAndSet(status, "down"), (previous) =>
        previous === "down"
          ? Effect.void
          : Effect.logWarning(
            `Redis token store at ${where} unavailable (${why}); this process works on its own until it answers`
          ))

    const client = yield* Effect.try({
      try: () =>
        createClient({
          url,
          disableOfflineQueue: true,
          socket: { connectTimeout: options.connectTimeoutMs, reconnectStrategy: reconnectDelayMs },
          commandOptions: { timeout: options.commandTimeoutMs }
        }),
      // No `cause`: node-redis's error quotes the URL.
      catch: () => new TokenStoreError({ reason: "Misconfigured", operation: "connect", description: unusableUrl(url) })
    })
    client.on("ready", () => runFork(markUp))
    client.on("error", (error: unknown) => runFork(markDown(describe(error))))
    const subscriber = client.duplicate({ disableOfflineQueue: false, commandOptions: {} })
    subscriber.on("error", () => {
      // The command connection reports outages; the subscriber only reconnects and resubscribes.
    })

    yield* Effect.acquireRelease(
      Effect.sync(() => {
        client.connect().catch(() => {})
        subscriber.connect().catch(() => {})
      }),
      () =>
        Effect.sync(() => {
          client.destroy()
          subscriber.destroy()
        })
    )

    const failure = (reason: TokenStoreError["reason"], operation: string, description: string) =>
      new TokenStoreError({ reason, operation, description })

    const send = <A>(operation: string, args: ReadonlyArray<string>): Effect.Effect<A, TokenStoreError> =>
      Effect.tryPromise({
        try: (signal) => client.withAbortSignal(signal).sendCommand(args) as Promise<A>,
        catch: (error) => error
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(options.commandTimeoutMs),
          onTimeout: () => "timeout" as const
        }),
        Effect.catchAll((error) => {
          if (error instanceof ErrorReply) {
            // Redis answered: not an outage, but this command failed (a read-only user, an ACL, ...).
            return Effect.fail(failure("Unavailable", operation, `Redis answered ${describe(error)}`))
          }
          const timedOut = error === "timeout" || (error instanceof Error && error.name === "TimeoutError")
          const description = timedOut
            ? `no answer from ${where} within ${options.commandTimeoutMs} ms`
            : describe(error)
          return Effect.zipRight(
            markDown(description),
            Effect.fail(failure(timedOut ? "Timeout" : "Unavailable", operation, description))
          )
        })
      )

    const command = <A>(operation: string, args: ReadonlyArray<string>): Effect.Effect<A, TokenStoreError> =>
      Effect.flatMap(Ref.get(status), (current) => {
        switch (current) {
          case "up":
            return send<A>(operation, args)
          case "down":
            return Effect.fail(
              failure("Unavailable", operation, `Redis at ${where} is unavailable; not waiting for it`)
            )
          case "connecting":
            // A first call waits briefly for the connection, rather than going on its own at once.
            return Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Deferred.await(ready).pipe(
                Effect.timeoutFail({
                  duration: Duration.millis(Math.max(0, startedAt + options.connectTimeoutMs - now)),
                  onTimeout: () => `no connection to ${where} within ${options.connectTimeoutMs} ms`
                }),
                Effect.catchAll((why) =>
                  Effect.zipRight(markDown(why), Effect.fail(failure("Unavailable", operation, why)))
                ),
                Effect.zipRight(Effect.suspend(() => command<A>(operation, args)))
              ))
        }
      })

    // While down with the socket still open (a frozen server answers nothing, but nothing closes either),
    // only a command that gets an answer can tell that Redis is back.
    const probe = Effect.flatMap(Ref.get(status), (current) => {
      if (current === "down" && client.isReady) {
        return send<string>("ping", ["PING"]).pipe(Effect.zipRight(markUp), Effect.ignore)
      }
      if (current === "connecting") {
        return Effect.flatMap(Clock.currentTimeMillis, (now) =>
          now >= startedAt + options.connectTimeoutMs
            ? markDown(`no connection to ${where} within ${options.connectTimeoutMs} ms`)
            : Effect.void)
      }
      return Effect.void
    })
    yield* Effect.forkScoped(Effect.repeat(probe, Schedule.spaced("1 second")))

    const subscribe = (channel: string, onMessage: (message: string) => void) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          subscriber.SUBSCRIBE(channel, onMessage).catch(() => {})
        }),
        () =>
          Effect.sync(() => {
            subscriber.UNSUBSCRIBE(channel, onMessage).catch(() => {})
          })
      )

    return { command, subscribe }
  })
