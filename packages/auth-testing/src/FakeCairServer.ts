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
    readonly resetLog: Effect.Effect<void>
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
}

/**
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
 * @since 0.1.0
 * @category models
 */
export interface InjectOptions {
  readonly path?: string | undefined
  readonly times?: number | undefined
}

/**
 * What the server does instead of (or on top of) its normal answer. Faults other than `Delay` and
 * `ExpiredTokenSet` leave the server's state alone: a faulted refresh does not use up its refresh token.
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
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const Fault = Data.taggedEnum<Fault>()

/**
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
  /** The refresh token sent to `/api/refresh`, if the body had one. */
  readonly refreshToken: string | undefined
}

/**
 * The Promise API of a running server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  readonly url: string
  readonly credentials: Credentials
  readonly inject: (fault: Fault, options?: InjectOptions) => void
  readonly clearFaults: () => void
  readonly revokeAccessTokens: () => void
  readonly revokeAll: () => void
  readonly setLifetimes: (lifetimes: Lifetimes) => void
  readonly requests: () => ReadonlyArray<RequestLogEntry>
  readonly count: (path?: string) => number
  readonly awaitCount: (n: number, path?: string) => Promise<void>
  readonly resetLog: () => void
  /** Closes every connection and the server; resolves once nothing is left running. */
  readonly stop: () => Promise<void>
}

/**
 * `clientId: "demo-client"`, `clientSecret: "demo-secret"`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCredentials: Credentials = internal.defaultCredentials

/**
 * Starts a server that stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options?: Options
) => Effect.Effect<FakeCairServer.Service, HttpServerError.ServeError, Scope.Scope> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<FakeCairServer, HttpServerError.ServeError> =>
  Layer.scoped(FakeCairServer, make(options))

/**
 * Starts a server outside Effect; rejects with the `ServeError` itself if it cannot listen.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options?: Options): Promise<Handle> => internalHandle.start(make(options))
