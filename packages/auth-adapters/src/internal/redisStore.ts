import type * as AuthRedis from "@cair/auth-redis"
import { InvalidOptions } from "@cair/auth/CairAuthError"
import * as TokenStore from "@cair/auth/TokenStore"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * Named through a variable, so that the bundler of an app that does not use Redis leaves the import alone instead
 * of failing to resolve a package the app never installed.
 */
const optionalPackage: string = "@cair/auth-redis"

/** Whether `import()` failed because the package itself is not installed (not one of its own dependencies). */
const notInstalled = (error: unknown): boolean =>
  error instanceof Error && (error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" &&
  error.message.includes(`'${optionalPackage}'`)

const unusable = (description: string) => new InvalidOptions({ option: "redisUrl", description })

/** `@cair/auth-redis`, imported, and its store for `url`; a package that is missing or a URL it refuses: why. */
const load = (url: string): Effect.Effect<TokenStore.TokenStore.Service, InvalidOptions, Scope.Scope> =>
  Effect.tryPromise({
    try: () => import(optionalPackage) as Promise<typeof AuthRedis>,
    catch: (error) =>
      unusable(
        notInstalled(error)
          ? `it is set, but ${optionalPackage} is not installed: npm install ${optionalPackage}`
          : `it is set, but ${optionalPackage} could not be loaded (${
            (error as { code?: unknown }).code ?? (error as Error).name
          }): reinstall it`
      )
  }).pipe(
    Effect.flatMap((module) => module.RedisTokenStore.make({ url: Redacted.make(url) })),
    // A URL node-redis cannot parse: the store says why, never repeating it.
    Effect.catchTag("TokenStoreError", (error) => Effect.fail(unusable(error.description)))
  )

/**
 * The Redis token store for `redisUrl`, and whether it can be used.
 *
 * @internal
 */
export interface RedisStore {
  readonly store: TokenStore.TokenStore.Service
  /**
   * Waits for the package and the store; fails with `InvalidOptions` (`redisUrl`) when the package is not installed
   * or refuses the URL. Every call of the client goes through it: such a client rejects every call, rather than
   * working without the fleet it was told to join. Redis down is not such a failure: the store works alone then.
   */
  readonly usable: Effect.Effect<void, InvalidOptions>
}

/**
 * Loads `@cair/auth-redis` in the scope, in the background (`import()`, never bundled: a user without Redis installs
 * nothing for it). The client is built synchronously, so the store and each client's slot are handed out at once and
 * each operation waits for the load.
 *
 * @internal
 */
export const make = (url: string): Effect.Effect<RedisStore, never, Scope.Scope> =>
  Effect.gen(function*() {
    const loaded = yield* Deferred.make<TokenStore.TokenStore.Service, InvalidOptions>()
    yield* Effect.forkScoped(Effect.flatMap(Effect.exit(load(url)), (exit) => Deferred.done(loaded, exit)))
    const store = TokenStore.TokenStore.of({
      forClient: (client) =>
        Effect.gen(function*() {
          const forClient = yield* Deferred.make<TokenStore.Slot, TokenStore.TokenStoreError>()
          yield* Effect.forkScoped(
            Deferred.await(loaded).pipe(
              Effect.mapError((error) =>
                new TokenStore.TokenStoreError({
                  reason: "Misconfigured",
                  operation: "forClient",
                  description: error.description
                })
              ),
              Effect.flatMap((store) => store.forClient(client)),
              Effect.exit,
              Effect.flatMap((exit) => Deferred.done(forClient, exit))
            )
          )
          const slot = Deferred.await(forClient)
          const lazy: TokenStore.Slot = {
            latest: Effect.flatMap(slot, (s) => s.latest),
            put: (tokens, expected) => Effect.flatMap(slot, (s) => s.put(tokens, expected)),
            invalidate: (version) => Effect.flatMap(slot, (s) => s.invalidate(version)),
            acquireLease: (ttlMs) => Effect.flatMap(slot, (s) => s.acquireLease(ttlMs)),
            releaseLease: (lease) => Effect.flatMap(slot, (s) => s.releaseLease(lease)),
            claimRefresh: (lease, version) => Effect.flatMap(slot, (s) => s.claimRefresh(lease, version)),
            unclaimRefresh: (lease, version) => Effect.flatMap(slot, (s) => s.unclaimRefresh(lease, version)),
            awaitChange: (seen, maxWaitMs) => Effect.flatMap(slot, (s) => s.awaitChange(seen, maxWaitMs)),
            changes: Stream.unwrap(
              Effect.map(Effect.exit(slot), (exit) => Exit.isSuccess(exit) ? exit.value.changes : Stream.empty)
            )
          }
          return lazy
        })
    })
    return { store, usable: Effect.asVoid(Deferred.await(loaded)) }
  })
