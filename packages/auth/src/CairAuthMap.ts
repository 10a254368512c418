/**
 * `CairAuthMap`: one `CairAuth` per key in one app, for an integrator that connects many organizations, each with
 * a client id of its own. A key's service is made on first use, shared while in use, and closed (its background
 * refresh stopped, its token dropped) once it has been idle for a while. It is Effect's `RcMap` of `CairAuth`
 * services, and each costs its own state only: no layer, no runtime of its own.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as CairAuth from "./CairAuth.js"
import type { CairAuthError, InvalidOptions } from "./CairAuthError.js"
import * as internal from "./internal/cairAuthMap.js"

/**
 * The services by key.
 *
 * @example
 * ```ts
 * import type { CairAuthMap } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const authorizationFor = (clients: CairAuthMap.CairAuthMap<string>, organization: string) =>
 *   Effect.map(clients.accessToken(organization), (token) => `Bearer ${Redacted.value(token)}`)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CairAuthMap<K, E = never> {
  /**
   * The service of `key`: made from `options(key)` on first use, then shared. It stays open while the scope holds
   * it, and for `idleTimeToLive` after the last scope let go.
   */
  readonly get: (key: K) => Effect.Effect<CairAuth.CairAuth.Service, E | InvalidOptions, Scope.Scope>
  /** The access token of `key`'s service, holding the service for this read only. */
  readonly accessToken: (key: K) => Effect.Effect<Redacted.Redacted<string>, E | InvalidOptions | CairAuthError>
  /**
   * Forgets `key`'s service (for instance after its credentials changed): the next `get` makes a new one; the old
   * one closes once no scope holds it.
   */
  readonly invalidate: (key: K) => Effect.Effect<void>
  /** The keys that have a service now. */
  readonly keys: Effect.Effect<Array<K>>
}

/**
 * @example
 * ```ts
 * import type { CairAuth, CairAuthMap } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * declare const credentialsOf: (organization: string) => Effect.Effect<CairAuth.Options, Error>
 * const options: CairAuthMap.Options<string, Error> = { options: credentialsOf, idleTimeToLive: "10 minutes" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<K, E = never, R = never> {
  /** The options of `key`'s service (its credentials, from a database or a vault), read when it is made. */
  readonly options: (key: K) => Effect.Effect<CairAuth.Options, E, R>
  /** How long a service no scope holds is kept, with its token. Default 5 minutes. */
  readonly idleTimeToLive?: Duration.DurationInput | undefined
}

/**
 * Makes the map. The services request their tokens through the `HttpClient` of the environment, and close with
 * the scope. Keys are compared with `Equal`: strings and numbers as they are, `Data` values by content.
 *
 * @example
 * ```ts
 * import { CairAuth, CairAuthMap } from "@cair/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import * as Effect from "effect/Effect"
 *
 * const credentials: Record<string, CairAuth.Options> = {
 *   "clinic-a": { clientId: "clinic-a", clientSecret: process.env.CLINIC_A_SECRET! },
 *   "clinic-b": { clientId: "clinic-b", clientSecret: process.env.CLINIC_B_SECRET! }
 * }
 *
 * const program = Effect.gen(function*() {
 *   const clients = yield* CairAuthMap.make({
 *     options: (organization: string) => Effect.succeed(credentials[organization]!)
 *   })
 *   const tokenA = yield* clients.accessToken("clinic-a")
 *   const tokenB = yield* clients.accessToken("clinic-b")
 * }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <K, E = never, R = never>(
  options: Options<K, E, R>
) => Effect.Effect<CairAuthMap<K, E>, never, HttpClient.HttpClient | Scope.Scope | R> = internal.make
