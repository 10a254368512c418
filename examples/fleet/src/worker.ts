/**
 * One worker of the fleet: CairAuth on the Redis store, calling for its token every 250 ms for `WORK_MS`, and
 * printing each token it is handed (by a short hash: never the token) and where it came from.
 */
import { CairAuth } from "@cair/auth"
import { RedisTokenStore } from "@cair/auth-redis"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer, Redacted, Stream } from "effect"
import { createHash } from "node:crypto"

const name = process.env.WORKER_NAME ?? "worker"
const workMs = Number(process.env.WORK_MS ?? 6_000)
const short = (token: Redacted.Redacted<string>) =>
  createHash("sha256").update(Redacted.value(token)).digest("hex").slice(0, 8)

const AuthLive = CairAuth.layerConfig.pipe(
  Layer.provide(RedisTokenStore.layerConfig),
  Layer.provide(FetchHttpClient.layer)
)

const program = Effect.gen(function*() {
  const auth = yield* CairAuth.CairAuth
  yield* Effect.forkScoped(Stream.runForEach(auth.events, (event) =>
    event._tag === "Acquired"
      ? Effect.sync(() =>
        console.log(
          `${name}: token from ${event.source === "store" ? "the fleet (Redis)" : `its own ${event.source} request`}`
        )
      )
      : Effect.void))
  let last = ""
  const until = Date.now() + workMs
  while (Date.now() < until) {
    const token = short(yield* auth.accessToken)
    if (token !== last) console.log(`${name}: using token #${token}`)
    last = token
    yield* Effect.sleep("250 millis")
  }
})

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(AuthLive))).catch((error) => {
  console.error(`${name}: ${error}`)
  process.exitCode = 1
})
