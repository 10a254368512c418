/**
 * `pnpm --filter @cair/example-effect-app start`. An expected failure (configuration, credentials,
 * the API) is printed as one line, which holds no secret, and the exit status is 1.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { main } from "./program.js"

main.pipe(
  Effect.catchAll((error) =>
    Effect.zipRight(
      Console.error(String(error)),
      Effect.sync(() => {
        process.exitCode = 1
      })
    )
  ),
  NodeRuntime.runMain
)
