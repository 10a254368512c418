// One process of bench 6's fleet, forked by `benchmarks/Fleet.ts`: a client of the fake server built at start,
// `CairAuth` (FLEET_API=effect) or the Promise adapter (FLEET_API=adapter), on the Redis store when CAIR_REDIS_URL is
// set. Says `ready`, and on `go` gets a token and answers a hash of it (never the token itself). Plain JavaScript
// that imports only the client it runs: 16 of these start at once on 2 cores, and tsx would add a quarter of a CPU
// second to each. Logs at warning and above go to stderr, which the parent keeps. Exits on `exit` or when the
// parent goes away.
import { createHash } from "node:crypto"

const env = process.env
const options = { clientId: env.CAIR_CLIENT_ID, clientSecret: env.CAIR_CLIENT_SECRET, baseUrl: env.CAIR_BASE_URL }
const redisUrl = env.CAIR_REDIS_URL || undefined

const adapter = async () => {
  const { createCairAuthClient } = await import("@cair/auth-adapters")
  const client = createCairAuthClient({ ...options, redisUrl, logLevel: "Warning" })
  return { get: () => client.getAccessToken(), close: () => client.close() }
}

const effect = async () => {
  const [CairAuth, FetchHttpClient, { Layer, Logger, LogLevel, ManagedRuntime, Redacted }, store] = await Promise.all([
    import("@cair/auth/CairAuth"),
    import("@effect/platform/FetchHttpClient"),
    import("effect"),
    redisUrl === undefined ? undefined : import("@cair/auth-redis")
  ])
  const runtime = ManagedRuntime.make(
    CairAuth.layer(options).pipe(
      Layer.provide(store === undefined ? Layer.empty : store.RedisTokenStore.layer({ url: redisUrl })),
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Logger.replace(Logger.defaultLogger, Logger.withLeveledConsole(Logger.logfmtLogger))),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
  )
  const auth = await runtime.runPromise(CairAuth.CairAuth)
  return { get: async () => Redacted.value(await runtime.runPromise(auth.accessToken)), close: () => runtime.dispose() }
}

const send = (answer) => process.send?.(answer)
const client = await (env.FLEET_API === "adapter" ? adapter() : effect())

process.on("message", (command) => {
  if (command === "go") {
    const start = performance.now()
    client.get().then(
      (token) =>
        send({
          served: createHash("sha256").update(token).digest("hex").slice(0, 16),
          tookMs: performance.now() - start
        }),
      (error) => send({ failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
    )
  } else if (command === "exit") {
    void client.close().finally(() => process.exit(0))
  }
})
process.on("disconnect", () => process.exit(0))
send({ ready: true })
