import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { errorLines } from "./errorLines.js"
import { type CliError, CommandFailed, exitCodeOf } from "./errors.js"
import { ExitCode } from "./exitCode.js"

/** Prints one line on stderr, prefixed with the program's name. */
export const printError = (line: string): Effect.Effect<void> => Console.error(`cair-auth: ${line}`)

/**
 * Runs a command's body and reports its failure: one line per problem on stderr, then `CommandFailed` with the
 * exit code. The whole cause, with its stack, is logged at debug level only (`--log-level debug`).
 */
export const reporting = <A, R>(self: Effect.Effect<A, CliError, R>): Effect.Effect<A, CommandFailed, R> =>
  self.pipe(
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logDebug("cair-auth failed", cause)
    ),
    Effect.catchAll((error) =>
      Effect.zipRight(
        Effect.forEach(errorLines(error), printError, { discard: true }),
        new CommandFailed({ exitCode: exitCodeOf(error) })
      )
    ),
    Effect.catchAllDefect((defect) =>
      Effect.zipRight(
        printError(
          `unexpected failure: ${defect instanceof Error ? defect.message : String(defect)} ` +
            "(run again with --log-level debug for the details, and report it)"
        ),
        new CommandFailed({ exitCode: ExitCode.unexpected })
      )
    )
  )
