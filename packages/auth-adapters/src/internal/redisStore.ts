import type * as AuthRedis from "@cair/auth-redis"
import * as TokenStore from "@cair/auth/TokenStore"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"

/**
 * Named through a variable, so that the bundler of an app that does not use Redis leaves the import alone instead
 * of failing to resolve a package the app never installed.
 */
const optionalPackage: string = "@cair/auth-redis"

/** Made when it happens, not when the adapter loads: an error captures a stack trace, which costs at `require()`. */
const missing = () =>
  new TokenStore.TokenStoreError({
    reason: "Misconfigured",
    operation: "forClient",
    description: "redisUrl is set, but the package @cair/auth-redis is not installed: npm install @cair/auth-redis"
  })

/**
 * The Redis token store for `redisUrl`, loaded on first use (`import("@cair/auth-redis")`, never bundled: a user
 * without Redis installs nothing for it). The client is built synchronously, so the slot is handed out at once and
 * each operation waits for the load; a package that is missing is logged once, at warning, naming it, and the
 * client works on its own.
 *
 * @internal
 */
export const make = (url: string): TokenStore.TokenStore.Service =>
  TokenStore.TokenStore.of({
    forClient: (client) =>
      Effect.gen(function*() {
        const loaded = yield* Deferred.make<TokenStore.Slot, TokenStore.TokenStoreError>()
        yield* Effect.forkScoped(
          Effect.tryPromise({
            try: () => import(optionalPackage) as Promise<typeof AuthRedis>,
            catch: missing
          }).pipe(
            Effect.tapError((error) => Effect.logWarning(`Cair token store not used: ${error.message}`)),
            Effect.flatMap((module) => module.RedisTokenStore.make({ url: Redacted.make(url) })),
            Effect.flatMap((store) => store.forClient(client)),
            Effect.exit,
            Effect.flatMap((exit) => Deferred.done(loaded, exit))
          )
        )
        const slot = Deferred.await(loaded)
        const real: TokenStore.Slot = {
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
        return real
      })
  })
