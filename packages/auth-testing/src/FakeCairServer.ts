/**
 * A fake Cair Health auth server: a real HTTP server on 127.0.0.1 that speaks `POST /api/token`,
 * `POST /api/refresh` and a protected `POST /api/eligibility/v1`, with fault injection and a request log.
 *
 * Time comes from the Effect `Clock` the server was started with (real time, or a `TestClock` in tests),
 * shifted by `clockOffsetMs`.
 *
 * @since 0.1.0
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/fakeCairServer.js"
import * as internalHandle from "./internal/handle.js"

/**
 * @example
 * ```ts
 * import { TokenEndpoint } from "@cair/auth"
 * import { FakeCairServer } from "@cair/auth-testing"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 *
 * const test = Effect.gen(function*() {
 *   const server = yield* FakeCairServer.FakeCairServer
 *   const endpoint = yield* TokenEndpoint.make({ ...server.credentials, baseUrl: server.url })
 *   yield* endpoint.requestToken
 *   return yield* server.count("/api/token") // 1
 * }).pipe(Effect.provide(FakeCairServer.layer()), Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class FakeCairServer extends Context.Tag("@cair/auth-testing/FakeCairServer")<
  FakeCairServer,
  FakeCairServer.Service
>() {}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace FakeCairServer {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** Base URL, e.g. `http://127.0.0.1:54321`. */
    readonly url: string
    readonly credentials: Credentials
    /** Queues `fault` for the next `times` (default 1) requests to `path` (default: any path). */
    readonly inject: (fault: Fault, options?: InjectOptions) => Effect.Effect<void>
    /** Drops every queued fault: an outage injected with a large `times` ends here. */
    readonly clearFaults: Effect.Effect<void>
    /** Makes every access token issued so far invalid; refresh tokens keep working. */
    readonly revokeAccessTokens: Effect.Effect<void>
    /** Makes every access and refresh token issued so far invalid. */
    readonly revokeAll: Effect.Effect<void>
    /** Changes the lifetimes of the tokens issued from now on. */
    readonly setLifetimes: (lifetimes: Lifetimes) => Effect.Effect<void>
    /** Every request received, oldest first. */
    readonly requests: Effect.Effect<ReadonlyArray<RequestLogEntry>>
    /** How many requests were received for `path` (default: any path). */
    readonly count: (path?: string) => Effect.Effect<number>
    /** Waits until at least `n` requests were received for `path` (default: any path). */
    readonly awaitCount: (n: number, path?: string) => Effect.Effect<void>
    /** Empties the request log. */
    readonly resetLog: Effect.Effect<void>
  }
}

/**
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const credentials: FakeCairServer.Credentials = { clientId: "test-client", clientSecret: "test-only-secret" }
 * const server = await FakeCairServer.start({ credentials })
 * await server.stop()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
}

/**
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const lifetimes: FakeCairServer.Lifetimes = { accessTokenTtlMs: 30_000, refreshTokenTtlMs: 120_000 }
 * const server = await FakeCairServer.start(lifetimes)
 * server.setLifetimes({ accessTokenTtlMs: 1_000 }) // tokens issued from now on live one second
 * await server.stop()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Lifetimes {
  /** Default 10 minutes. */
  readonly accessTokenTtlMs?: number | undefined
  /** Default 24 hours. */
  readonly refreshTokenTtlMs?: number | undefined
}

/**
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * // A server whose clock runs 30 seconds behind, issuing one-minute access tokens.
 * const options: FakeCairServer.Options = { port: 0, accessTokenTtlMs: 60_000, clockOffsetMs: -30_000 }
 * const FakeServerTest = FakeCairServer.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Lifetimes {
  /** Default 0: a random free port. */
  readonly port?: number | undefined
  /** Default {@link defaultCredentials}. */
  readonly credentials?: Credentials | undefined
  /** How far the server's clock runs from the caller's: shifts issued `expiresAt`s and the `Date` header. */
  readonly clockOffsetMs?: number | undefined
}

/**
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const server = await FakeCairServer.start()
 * const options: FakeCairServer.InjectOptions = { path: "/api/refresh", times: 3 }
 * server.inject(FakeCairServer.Fault.Status({ status: 500 }), options)
 * await server.stop()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface InjectOptions {
  readonly path?: string | undefined
  readonly times?: number | undefined
}

/**
 * What the server does instead of (or on top of) its normal answer. Faults other than `Delay`, `DateHeader` and
 * `ExpiredTokenSet` leave the server's state alone: a faulted refresh does not use up its refresh token.
 *
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const faults: ReadonlyArray<FakeCairServer.Fault> = [
 *   FakeCairServer.Fault.Status({ status: 429, retryAfter: "2" }),
 *   FakeCairServer.Fault.Malformed({ body: "{\"accessToken\": 42}" }),
 *   FakeCairServer.Fault.Reset(),
 *   FakeCairServer.Fault.Redirect({ status: 307, location: "https://elsewhere.example/api/token" })
 * ]
 * const server = await FakeCairServer.start()
 * for (const fault of faults) server.inject(fault, { path: "/api/token" })
 * await server.stop()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = Data.TaggedEnum<{
  /** Answers `status` with `body` (default `{message}`) and, if given, a `Retry-After` header. */
  Status: {
    readonly status: number
    readonly retryAfter?: string | undefined
    readonly body?: string | undefined
    readonly contentType?: string | undefined
  }
  /** Answers `status` (a 3xx) with a `Location: location` header and an empty body. */
  Redirect: { readonly status: number; readonly location: string }
  /** Answers 200 with `body` as given (default content type `application/json`). */
  Malformed: { readonly body: string; readonly contentType?: string | undefined }
  /** Answers 200 with a body of `bytes` bytes. */
  HugeBody: { readonly bytes: number }
  /** Sends the headers and half the announced body, then closes the connection. */
  Truncated: {}
  /** Waits `duration` on the server's clock, then answers normally. */
  Delay: { readonly duration: Duration.DurationInput }
  /** Never answers; the connection is closed when the server stops. */
  Hang: {}
  /** Resets the connection without answering. */
  Reset: {}
  /** Answers normally, but an issued token set's access token has already expired. */
  ExpiredTokenSet: {}
  /** Answers normally, but with this `Date` header instead of the server's clock: a broken header. */
  DateHeader: { readonly date: string }
}>

/**
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 * import * as Effect from "effect/Effect"
 *
 * // The next two token requests wait 3 seconds on the server's clock.
 * const slowTokens = Effect.flatMap(FakeCairServer.FakeCairServer, (server) =>
 *   server.inject(FakeCairServer.Fault.Delay({ duration: "3 seconds" }), { path: "/api/token", times: 2 }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault = Data.taggedEnum<Fault>()

/**
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const unauthorized = (log: ReadonlyArray<FakeCairServer.RequestLogEntry>) =>
 *   log.filter((entry) => entry.status === 401).map((entry) => `${entry.method} ${entry.path}`)
 * const server = await FakeCairServer.start()
 * console.log(unauthorized(server.requests())) // []
 * await server.stop()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestLogEntry {
  readonly method: string
  readonly path: string
  /** When the request arrived, on the server's clock. */
  readonly time: Date
  /** The status sent; `undefined` while in flight or when the fault sent none (`Hang`, `Reset`). */
  readonly status: number | undefined
  readonly fault: Fault | undefined
  readonly authorization: boolean
  /** The request's headers, lower-case, except `authorization` (see `authorization`). */
  readonly headers: Readonly<Record<string, string>>
  /** The refresh token sent to `/api/refresh`, if the body had one. */
  readonly refreshToken: string | undefined
}

/**
 * The Promise API of a running server.
 *
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const server: FakeCairServer.Handle = await FakeCairServer.start()
 * try {
 *   const response = await fetch(`${server.url}/api/token`, {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify(server.credentials)
 *   })
 *   console.log(response.status, server.count("/api/token")) // 200 1
 * } finally {
 *   await server.stop()
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  readonly url: string
  readonly credentials: Credentials
  /** Queues `fault` for the next `times` (default 1) requests to `path` (default: any path). */
  readonly inject: (fault: Fault, options?: InjectOptions) => void
  /** Drops every queued fault: an outage injected with a large `times` ends here. */
  readonly clearFaults: () => void
  /** Makes every access token issued so far invalid; refresh tokens keep working. */
  readonly revokeAccessTokens: () => void
  /** Makes every access and refresh token issued so far invalid. */
  readonly revokeAll: () => void
  /** Changes the lifetimes of the tokens issued from now on. */
  readonly setLifetimes: (lifetimes: Lifetimes) => void
  /** Every request received, oldest first. */
  readonly requests: () => ReadonlyArray<RequestLogEntry>
  /** How many requests were received for `path` (default: any path). */
  readonly count: (path?: string) => number
  /** Resolves once at least `n` requests were received for `path` (default: any path). */
  readonly awaitCount: (n: number, path?: string) => Promise<void>
  /** Empties the request log. */
  readonly resetLog: () => void
  /** Closes every connection and the server; resolves once nothing is left running. */
  readonly stop: () => Promise<void>
}

/**
 * `clientId: "demo-client"`, `clientSecret: "demo-secret"`.
 *
 * @example
 * ```ts
 * import { createCairAuthClient } from "@cair/auth-adapters"
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const server = await FakeCairServer.start()
 * const auth = createCairAuthClient({ ...FakeCairServer.defaultCredentials, baseUrl: server.url })
 * const token = await auth.getAccessToken()
 * await auth.close()
 * await server.stop()
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCredentials: Credentials = internal.defaultCredentials

/**
 * Starts a server that stops when the scope closes.
 *
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 * import * as Effect from "effect/Effect"
 *
 * const test = Effect.scoped(Effect.gen(function*() {
 *   const server = yield* FakeCairServer.make({ accessTokenTtlMs: 5_000 })
 *   yield* server.inject(FakeCairServer.Fault.Hang(), { path: "/api/token" })
 *   // ... run the client under test against server.url; the server stops with the scope.
 *   return yield* server.requests
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options?: Options
) => Effect.Effect<FakeCairServer.Service, HttpServerError.ServeError, Scope.Scope> = internal.make

/**
 * @example
 * ```ts
 * import { CairAuth } from "@cair/auth"
 * import { FakeCairServer } from "@cair/auth-testing"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * // CairAuth against the fake server, and the server itself for assertions.
 * const AuthTest = Layer.unwrapEffect(
 *   Effect.map(FakeCairServer.FakeCairServer, (server) => CairAuth.layer({ ...server.credentials, baseUrl: server.url }))
 * ).pipe(Layer.provideMerge(FakeCairServer.layer()), Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<FakeCairServer, HttpServerError.ServeError> =>
  Layer.scoped(FakeCairServer, make(options))

/**
 * Starts a server outside Effect; rejects with the `ServeError` itself if it cannot listen.
 *
 * @example
 * ```ts
 * import { FakeCairServer } from "@cair/auth-testing"
 *
 * const server = await FakeCairServer.start({ accessTokenTtlMs: 2_000 })
 * try {
 *   // ... run the client under test against server.url and server.credentials, then:
 *   await server.awaitCount(1, "/api/token")
 * } finally {
 *   await server.stop()
 * }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options?: Options): Promise<Handle> => internalHandle.start(make(options))
