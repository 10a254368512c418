import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type { Credentials, FakeCairServer, Options } from "../FakeCairServer.js"
import * as App from "./app.js"
import * as Faults from "./faults.js"
import * as RequestLog from "./requestLog.js"
import * as Routes from "./routes.js"
import * as Tokens from "./tokens.js"

/** @internal */
export const defaultCredentials: Credentials = { clientId: "demo-client", clientSecret: "demo-secret" }

/** @internal */
export const make = (
  options: Options = {}
): Effect.Effect<FakeCairServer.Service, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const credentials = options.credentials ?? defaultCredentials
    const now = Effect.map(Clock.currentTimeMillis, (millis) => millis + (options.clockOffsetMs ?? 0))
    const tokens = yield* Tokens.make(now, {
      accessTokenTtlMs: options.accessTokenTtlMs ?? 10 * 60 * 1000,
      refreshTokenTtlMs: options.refreshTokenTtlMs ?? 24 * 60 * 60 * 1000
    })
    const faults = yield* Faults.make
    const log = yield* RequestLog.make

    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { host: "127.0.0.1", port: options.port ?? 0 })
    // Runs before the server closes, which would otherwise wait for hung and keep-alive connections.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    yield* server.serve(App.make({
      routes: Routes.make(tokens, credentials),
      faults,
      log,
      now: Effect.map(now, (millis) => new Date(millis))
    }))

    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return {
      url: `http://127.0.0.1:${port}`,
      credentials,
      inject: faults.inject,
      clearFaults: faults.clear,
      revokeAccessTokens: tokens.revokeAccessTokens,
      revokeAll: tokens.revokeAll,
      setLifetimes: tokens.setLifetimes,
      requests: log.entries,
      count: log.count,
      awaitCount: log.awaitCount,
      resetLog: log.reset
    }
  })
