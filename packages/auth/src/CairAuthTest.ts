/**
 * Test layers to swap in for `CairAuth` in the tests of an app: no HTTP and no waiting, tokens
 * handed out from a script, and every call recorded for assertions.
 *
 * The double behaves like the real service: it keeps the current token until it is invalidated
 * (`invalidate`, or `invalidateToken` or `rejected` of the current token; a stale one is a no-op) or replaced by
 * `refresh`. A step of the script is taken only when a new token is needed:
 *
 * - a token (string or `Redacted`) becomes the current token, with the next generation;
 * - a `CairAuthError` fails that call and is not kept: the next call takes the next step (a
 *   failed `refresh` leaves the current token in place, as the real service does);
 * - when the script runs out its last step repeats: a token again (as a new generation), or the
 *   failure for good.
 *
 * Tokens never expire on their own; their times (`expiresAt` an hour after they were handed out,
 * by `Clock`) are informational. `events` publishes `Acquired`, `Failed` and `Invalidated`. `rejected`
 * always allows a retry: the double does not rest after rejected tokens. A token in the script that is empty,
 * or not a bearer token, is a defect when the double is built.
 *
 * @since 0.1.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { CairAuth } from "./CairAuth.js"
import type { CairAuthError } from "./CairAuthError.js"
import * as internal from "./internal/cairAuthTest.js"

/**
 * One step of a script: a token to hand out, or the failure of one call.
 *
 * @example
 * ```ts
 * import { CairAuthError, CairAuthTest } from "@cair/auth"
 * import type { NonEmptyReadonlyArray } from "effect/Array"
 * import * as Redacted from "effect/Redacted"
 *
 * const script: NonEmptyReadonlyArray<CairAuthTest.Step> = [
 *   new CairAuthError.InvalidCredentials({ clientId: "my-client", status: 401 }),
 *   "token-a",
 *   Redacted.make("token-b")
 * ]
 * const AuthTest = CairAuthTest.layerScripted(script)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Step = string | Redacted.Redacted<string> | CairAuthError

/**
 * A call made to the double. Holds no token.
 *
 * @example
 * ```ts
 * import { CairAuthTest } from "@cair/auth"
 *
 * // How many new tokens the code under test asked for with `refresh`.
 * const refreshes = (calls: ReadonlyArray<CairAuthTest.Call>): number =>
 *   calls.filter((call) => call.method === "refresh" && call.generation !== undefined).length
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly method: "get" | "accessToken" | "tokenSet" | "refresh" | "invalidate" | "invalidateToken" | "rejected"
  /**
   * `get`, `accessToken`, `tokenSet`, `refresh`: the generation handed out, `undefined` when the
   * call failed. `invalidate`: the generation that was current, if any. `invalidateToken`, `rejected`:
   * the generation named by the argument (for a bare `Redacted`, the latest handed out with that
   * value), whether or not it was still current.
   */
  readonly generation: number | undefined
}

/**
 * The recorder that comes with the test layers.
 *
 * @example
 * ```ts
 * import { CairAuth, CairAuthTest } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const test = Effect.gen(function*() {
 *   const auth = yield* CairAuth.CairAuth
 *   yield* auth.accessToken
 *   const recorder = yield* CairAuthTest.CairAuthTest
 *   const calls = yield* recorder.calls // [{ method: "accessToken", generation: 1 }]
 * }).pipe(Effect.provide(CairAuthTest.layerFixed("test-token")))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class CairAuthTest extends Context.Tag("@cair/auth/CairAuthTest")<CairAuthTest, CairAuthTest.Service>() {}

/**
 * @since 0.1.0
 * @category tags
 */
export declare namespace CairAuthTest {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** Every call made so far, oldest first. */
    readonly calls: Effect.Effect<ReadonlyArray<Call>>
  }
}

/**
 * @example
 * ```ts
 * import { CairAuthTest } from "@cair/auth"
 *
 * const options: CairAuthTest.Options = { baseUrl: "https://staging.cair.test/api" }
 * const AuthTest = CairAuthTest.layerFixed("test-token", options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The double's `baseUrl`, where `CairHttpClient` sends its requests. Default `https://cair.test` (a
   * reserved name that resolves nowhere, so a test cannot reach a real server by mistake).
   */
  readonly baseUrl?: string | URL | undefined
}

/**
 * A `CairAuth` double with its recorder, as `make` builds them.
 *
 * @example
 * ```ts
 * import { CairAuthTest } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const test = Effect.scoped(Effect.gen(function*() {
 *   const double: CairAuthTest.Double = yield* CairAuthTest.make(["token-a", "token-b"])
 *   yield* double.auth.invalidate
 *   return yield* double.calls
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Double extends CairAuthTest.Service {
  readonly auth: CairAuth.Service
}

/**
 * Builds a double and its recorder, for a test that wants the service itself rather than a layer.
 * `events` lives in the `Scope`.
 *
 * @example
 * ```ts
 * import { CairAuthTest } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const test = Effect.scoped(Effect.gen(function*() {
 *   const { auth } = yield* CairAuthTest.make(["token-a", "token-b"])
 *   yield* auth.invalidate
 *   const token = yield* auth.accessToken
 *   console.assert(Redacted.value(token) === "token-a") // nothing was current, so nothing was thrown away
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  steps: NonEmptyReadonlyArray<Step>,
  options?: Options
) => Effect.Effect<Double, never, Scope.Scope> = internal.make

/**
 * `CairAuth` handing out the steps in order, and its `CairAuthTest` recorder.
 *
 * @example
 * ```ts
 * import { CairAuthError, CairAuthTest } from "@cair/auth"
 *
 * // The first call fails, then "token-a", and after an invalidation "token-b" from then on.
 * const AuthTest = CairAuthTest.layerScripted([
 *   new CairAuthError.TokenRequestFailed({
 *     endpoint: "/api/token",
 *     reason: "Status",
 *     status: 503,
 *     description: "down"
 *   }),
 *   "token-a",
 *   "token-b"
 * ])
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerScripted = (
  steps: NonEmptyReadonlyArray<Step>,
  options?: Options
): Layer.Layer<CairAuth | CairAuthTest> =>
  Layer.scopedContext(
    Effect.map(make(steps, options), ({ auth, calls }) =>
      Context.add(Context.make(CairAuth, auth), CairAuthTest, { calls }))
  )

/**
 * `CairAuth` that always hands out `token` (a new generation after each invalidation), and its
 * `CairAuthTest` recorder.
 *
 * @example
 * ```ts
 * import { CairAuth, CairAuthTest } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const header = Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken).pipe(
 *   Effect.map((token) => `Bearer ${Redacted.value(token)}`)
 * )
 * const value = await Effect.runPromise(Effect.provide(header, CairAuthTest.layerFixed("test-token")))
 * // "Bearer test-token"
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFixed = (
  token: string | Redacted.Redacted<string>,
  options?: Options
): Layer.Layer<CairAuth | CairAuthTest> => layerScripted([token], options)

/**
 * The calls recorded by the `CairAuthTest` in context.
 *
 * @example
 * ```ts
 * import { CairAuth, CairAuthTest } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * const test = Effect.gen(function*() {
 *   const auth = yield* CairAuth.CairAuth
 *   yield* auth.accessToken
 *   yield* auth.accessToken
 *   const calls = yield* CairAuthTest.calls // two calls, both served generation 1
 * }).pipe(Effect.provide(CairAuthTest.layerFixed("test-token")))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const calls: Effect.Effect<ReadonlyArray<Call>, never, CairAuthTest> = Effect.flatMap(
  CairAuthTest,
  (recorder) => recorder.calls
)
