/**
 * The program and its Layers. `main` runs it against the real Cair API when CAIR_CLIENT_ID and
 * CAIR_CLIENT_SECRET are set, and against the fake Cair server on 127.0.0.1 when neither is.
 */
import { CairAuth, CairHttpClient } from "@cair/auth"
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Eligibility } from "./Eligibility.js"

export const memberIds = ["m-1001", "m-1002", "m-1003"]

/** Checks a few members, concurrently, and prints the answers. */
export const program = Effect.gen(function*() {
  const eligibility = yield* Eligibility
  const results = yield* Effect.forEach(memberIds, eligibility.check, { concurrency: "unbounded" })
  for (const result of results) {
    yield* Console.log(`member ${result.memberId}: eligible=${result.eligible}`)
  }
  return results
})

/**
 * The app's Layers. `CairAuth.layerConfig` reads CAIR_CLIENT_ID, CAIR_CLIENT_SECRET (redacted) and
 * CAIR_BASE_URL from the `ConfigProvider`; `CairHttpClient.layer()` sends requests under the base URL of
 * that `CairAuth`. Both share one `HttpClient`, the app's pick.
 */
export const AppLive = Eligibility.Default.pipe(
  Layer.provide(CairHttpClient.layer()),
  Layer.provide(CairAuth.layerConfig),
  Layer.provide(NodeHttpClient.layerUndici)
)

/**
 * The fake Cair server, and a `ConfigProvider` that points the CAIR_* config at it. Provide it to
 * `AppLive`; the server stops when the Layer is released.
 */
export const FakeCairLive = Layer.unwrapEffect(Effect.gen(function*() {
  const server = yield* FakeCairServer.FakeCairServer
  yield* Console.log(`CAIR_CLIENT_ID and CAIR_CLIENT_SECRET are not set: using the fake Cair server at ${server.url}`)
  return Layer.setConfigProvider(ConfigProvider.fromMap(
    new Map([
      ["CAIR_CLIENT_ID", server.credentials.clientId],
      ["CAIR_CLIENT_SECRET", server.credentials.clientSecret],
      ["CAIR_BASE_URL", server.url]
    ])
  ))
})).pipe(Layer.provideMerge(FakeCairServer.layer()))

/** Neither CAIR_CLIENT_ID nor CAIR_CLIENT_SECRET is set (an empty value counts as unset). */
const unconfigured = Config.all([
  Config.string("CAIR_CLIENT_ID").pipe(Config.withDefault("")),
  Config.redacted("CAIR_CLIENT_SECRET").pipe(Config.withDefault(Redacted.make("")))
]).pipe(Config.map(([clientId, clientSecret]) => clientId === "" && Redacted.value(clientSecret) === ""))

const tokenRequestsMade = Effect.gen(function*() {
  const server = yield* FakeCairServer.FakeCairServer
  yield* Console.log(`token requests made: ${yield* server.count("/api/token")}`)
})

export const main = Effect.gen(function*() {
  if (!(yield* unconfigured)) {
    return yield* Effect.provide(program, AppLive)
  }
  return yield* program.pipe(
    Effect.tap(tokenRequestsMade),
    Effect.provide(AppLive.pipe(Layer.provideMerge(FakeCairLive)))
  )
})
