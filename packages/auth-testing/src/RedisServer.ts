/**
 * A real `redis-server` for tests, demos and examples: started on a free loopback port with no
 * persistence (`--save "" --appendonly no`), ready once it says so and answers `PING`, and stopped,
 * paused (`SIGSTOP`: sockets open, no answers), resumed, killed or restarted on demand. Needs the
 * `redis-server` binary (Debian: `apt-get install -y redis-server`; or `REDIS_SERVER=/path/to/it`).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/redisServer.js"

/**
 * @example
 * ```ts
 * import { RedisServer } from "@cair/auth-testing"
 *
 * const options: RedisServer.RedisServerOptions = { startTimeoutMs: 60_000, args: ["--maxmemory", "64mb"] }
 * const redis = await RedisServer.start(options)
 * await redis.stop()
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisServerOptions {
  /** Default 0: a free port. */
  readonly port?: number | undefined
  /** How long to wait for the server to be ready, in milliseconds. Default 30 000. */
  readonly startTimeoutMs?: number | undefined
  /** More `redis-server` arguments. */
  readonly args?: ReadonlyArray<string> | undefined
}

/**
 * A running `redis-server`.
 *
 * @example
 * ```ts
 * import { RedisServer } from "@cair/auth-testing"
 *
 * const redis: RedisServer.RedisServer = await RedisServer.start()
 * redis.pause() // frozen: connections stay open, nothing answers
 * console.log(await redis.ping(200)) // false
 * redis.resume()
 * await redis.restart() // the same port, empty
 * await redis.stop()
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** The process id of the current server process. */
  readonly pid: () => number
  /** Sends `SIGSTOP`: the server keeps its sockets open and answers nothing. */
  readonly pause: () => void
  /** Sends `SIGCONT`. */
  readonly resume: () => void
  /** Stops the server (resuming it first if paused); resolves once it has exited. */
  readonly stop: () => Promise<void>
  /** Kills the server with `SIGKILL`; resolves once it has exited. */
  readonly kill: () => Promise<void>
  /** Stops it and starts a new, empty server on the same port; resolves once that one is ready. */
  readonly restart: () => Promise<void>
  /** After `stop` or `kill`: starts a new, empty server on the same port; resolves once it is ready. */
  readonly relaunch: () => Promise<void>
  /** Whether a `PING` gets an answer within `timeoutMs` (default 1 000). */
  readonly ping: (timeoutMs?: number) => Promise<boolean>
}

/**
 * Starts a server; rejects with a message naming the binary and its output if it cannot.
 *
 * @example
 * ```ts
 * import { RedisServer } from "@cair/auth-testing"
 *
 * const redis = await RedisServer.start()
 * try {
 *   console.log(redis.url) // redis://127.0.0.1:<port>
 * } finally {
 *   await redis.stop()
 * }
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const start: (options?: RedisServerOptions) => Promise<RedisServer> = internal.start

/**
 * A server that stops when the scope closes.
 *
 * @example
 * ```ts
 * import { RedisServer } from "@cair/auth-testing"
 * import * as Effect from "effect/Effect"
 *
 * const test = Effect.scoped(Effect.gen(function*() {
 *   const redis = yield* RedisServer.make()
 *   return redis.url
 * }))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options?: RedisServerOptions): Effect.Effect<RedisServer, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => internal.start(options), catch: (error) => error as Error }),
    (server) => Effect.promise(() => server.stop())
  )
