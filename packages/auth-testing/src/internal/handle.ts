import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { FakeCairServer, Handle } from "../FakeCairServer.js"

/** Runs `make` in a scope of its own, closed by `stop`. @internal */
export const start = async (
  make: Effect.Effect<FakeCairServer.Service, HttpServerError.ServeError, Scope.Scope>
): Promise<Handle> => {
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(Scope.extend(make, scope))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw Cause.squash(exit.cause)
  }
  const server = exit.value
  return {
    url: server.url,
    credentials: server.credentials,
    inject: (fault, options) => Effect.runSync(server.inject(fault, options)),
    clearFaults: () => Effect.runSync(server.clearFaults),
    revokeAccessTokens: () => Effect.runSync(server.revokeAccessTokens),
    revokeAll: () => Effect.runSync(server.revokeAll),
    setLifetimes: (lifetimes) => Effect.runSync(server.setLifetimes(lifetimes)),
    requests: () => Effect.runSync(server.requests),
    count: (path) => Effect.runSync(server.count(path)),
    awaitCount: (n, path) => Effect.runPromise(server.awaitCount(n, path)),
    resetLog: () => Effect.runSync(server.resetLog),
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
