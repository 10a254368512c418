/**
 * `pnpm --filter @cair/example-effect-app start`. A failure (configuration, credentials, the API) is
 * printed as one line, which holds no secret (the whole cause with `--verbose`), and the exit status is 1.
 */
import { ErrorMessage } from "@cair/auth"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { main } from "./program.js"

const verbose = process.argv.includes("--verbose")

main.pipe(
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.void
      : Console.error(verbose ? Cause.pretty(cause) : ErrorMessage.formatCause(cause))
  ),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
