/**
 * `pnpm demo`. With CAIR_CLIENT_ID and CAIR_CLIENT_SECRET set it runs against that API (CAIR_BASE_URL,
 * default the production one); without them it starts the fake Cair server on 127.0.0.1 with short
 * token lifetimes and runs the same program against it. A failure is one line on stderr (the whole
 * cause with `--verbose`) and exit status 1.
 */
import { CairAuth, CairHttpClient, ErrorMessage } from "@cair/auth"
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { program } from "./Demo.js"
import * as Timeline from "./Timeline.js"

const ClientLive = CairHttpClient.layer().pipe(
  Layer.provideMerge(CairAuth.layerConfig),
  Layer.provide(FetchHttpClient.layer),
  Layer.merge(Timeline.layer),
  // The timeline shows every token event; the library's own warnings would repeat them.
  Layer.merge(Logger.minimumLogLevel(LogLevel.Error))
)

const againstFakeServer = Effect.gen(function*() {
  const server = yield* FakeCairServer.make({ accessTokenTtlMs: 4_000 })
  yield* Console.log(
    `Cair auth demo against the fake Cair server at ${server.url} (set CAIR_CLIENT_ID to use the real API)`
  )
  const config = ConfigProvider.fromMap(
    new Map([
      ["CAIR_CLIENT_ID", server.credentials.clientId],
      ["CAIR_CLIENT_SECRET", server.credentials.clientSecret],
      ["CAIR_BASE_URL", server.url]
    ])
  )
  yield* program(Option.some(server)).pipe(Effect.provide(ClientLive), Effect.withConfigProvider(config))
})

const againstRealApi = Effect.gen(function*() {
  // Read and check the configuration first: the banner names the URL only once it is valid.
  const { baseUrl } = yield* CairAuth.config
  yield* Console.log(`Cair auth demo against ${baseUrl}`)
  yield* program(Option.none()).pipe(Effect.provide(ClientLive))
})

const main = Effect.gen(function*() {
  const configured = yield* Config.option(Config.nonEmptyString("CAIR_CLIENT_ID"))
  yield* Option.isSome(configured) ? againstRealApi : againstFakeServer
  yield* Console.log("\nDone.")
}).pipe(Effect.scoped)

/** `--verbose` prints the whole failure, with its stack frames; otherwise it is one line. Either way, exit status 1. */
const verbose = process.argv.includes("--verbose")

main.pipe(
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.void
      : Console.error(verbose ? Cause.pretty(cause) : `The demo failed: ${ErrorMessage.formatCause(cause)}`)
  ),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
