/**
 * The conformance suite of the `TokenStore` contract: the cases every store must pass, run by the
 * memory store's tests and by `@cair/auth-redis`'s against a real Redis, the way `@effect/platform`
 * runs one `testLayer` against every `KeyValueStore` backend. A new store (Postgres, DynamoDB) runs
 * the same cases with its own test runner.
 *
 * Each case needs a `TokenStore` and a `Scope` and runs on the live clock (leases expire in real
 * time): give it a fresh store, and a generous timeout.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/tokenStoreConformance.js"
import type { TokenStore, TokenStoreError } from "./TokenStore.js"

/**
 * @example
 * ```ts
 * import type { TokenStoreConformance } from "@cair/auth"
 *
 * const names = (cases: ReadonlyArray<TokenStoreConformance.Case>): Array<string> => cases.map((c) => c.name)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Case {
  readonly name: string
  /** Fails (a defect naming what differed) when the store breaks the contract. */
  readonly run: Effect.Effect<void, TokenStoreError, TokenStore | Scope.Scope>
}

/**
 * Every case of the contract.
 *
 * @example
 * ```ts
 * import { TokenStore, TokenStoreConformance } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * // With vitest: for (const c of TokenStoreConformance.cases) it.live(c.name, () => run(c))
 * const run = (c: TokenStoreConformance.Case) =>
 *   c.run.pipe(Effect.scoped, Effect.provide(TokenStore.layerMemory))
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const cases: ReadonlyArray<Case> = internal.cases

/**
 * Runs every case in turn against fresh stores from `layer`; fails with the first broken case's name.
 *
 * @example
 * ```ts
 * import { TokenStore, TokenStoreConformance } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 *
 * Effect.runPromise(TokenStoreConformance.runAll(TokenStore.layerMemory))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const runAll = <E>(layer: Layer.Layer<TokenStore, E>): Effect.Effect<void, unknown> =>
  Effect.forEach(cases, (c) =>
    c.run.pipe(
      Effect.scoped,
      Effect.provide(layer),
      Effect.catchAllCause((cause) => Effect.dieMessage(`${c.name}: ${Cause.pretty(cause)}`))
    ), { discard: true })
