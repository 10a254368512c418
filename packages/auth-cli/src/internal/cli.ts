import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { checkCommand } from "./checkCommand.js"
import { commandLineErrorLine } from "./errorLines.js"
import { UsageError } from "./errors.js"
import { ExitCode } from "./exitCode.js"
import { printError, reporting } from "./report.js"
import type { CliEnvironment } from "./settings.js"
import { tokenCommand } from "./tokenCommand.js"

const root = Command.make(
  "cair-auth",
  {},
  () => reporting(new UsageError({ description: "give a command: token or check" }))
).pipe(
  Command.withDescription("Bearer tokens and health checks for the Cair Health API."),
  Command.withSubcommands([tokenCommand, checkCommand])
)

const footer = HelpDoc.blocks([
  HelpDoc.h1("ENVIRONMENT"),
  HelpDoc.descriptionList([
    [HelpDoc.getSpan(HelpDoc.p("CAIR_CLIENT_ID")), HelpDoc.p("The client id (or --client-id).")],
    [
      HelpDoc.getSpan(HelpDoc.p("CAIR_CLIENT_SECRET")),
      HelpDoc.p("The client secret (or --client-secret-file, or typed at the prompt in a terminal).")
    ],
    [
      HelpDoc.getSpan(HelpDoc.p("CAIR_BASE_URL")),
      HelpDoc.p("The API's origin (or --base-url); default https://forecaster.cairhealth.com.")
    ],
    [
      HelpDoc.getSpan(HelpDoc.p("CAIR_REDIS_URL")),
      HelpDoc.p("The fleet's shared token store (@cair/auth-redis), when set: token uses the fleet's token.")
    ]
  ]),
  HelpDoc.h1("EXIT CODES"),
  HelpDoc.descriptionList([
    [HelpDoc.getSpan(HelpDoc.p(String(ExitCode.ok))), HelpDoc.p("ok")],
    [HelpDoc.getSpan(HelpDoc.p(String(ExitCode.unexpected))), HelpDoc.p("unexpected failure (a bug)")],
    [HelpDoc.getSpan(HelpDoc.p(String(ExitCode.usage))), HelpDoc.p("wrong command line")],
    [HelpDoc.getSpan(HelpDoc.p(String(ExitCode.configuration))), HelpDoc.p("configuration missing or invalid")],
    [HelpDoc.getSpan(HelpDoc.p(String(ExitCode.invalidCredentials))), HelpDoc.p("credentials rejected")],
    [
      HelpDoc.getSpan(HelpDoc.p(String(ExitCode.unavailable))),
      HelpDoc.p("token endpoint unreachable, timed out or failing")
    ],
    [HelpDoc.getSpan(HelpDoc.p(String(ExitCode.sharedStore))), HelpDoc.p("check: the shared store did not answer")]
  ])
])

/** Why `--client-secret` is refused: whoever tries it has just put the secret in the shell's history. */
const secretFlagHint = "there is no --client-secret flag: a flag's value lands in the shell's history and in ps. " +
  "Use CAIR_CLIENT_SECRET, --client-secret-file FILE (- for stdin), or type it at the prompt; " +
  "and consider the secret you typed exposed"

/**
 * The console while @effect/cli parses the command line: without `error`, where it prints its parse errors. They
 * quote the argument they refuse (`Received unknown argument: '…'`, `'…' is not a float`), and an argument may be
 * a secret pasted in the wrong place; `commandLineErrorLine` says what is wrong instead, without the value.
 */
const withoutParseErrors = (console: Console.Console): Console.Console => ({ ...console, error: () => Effect.void })

/**
 * Runs `cair-auth` on a command line (`process.argv`: the runtime and the script first) and gives the exit code.
 * Logs go to stderr, from level Error unless `--log-level` says otherwise: stdout is for the command's output, and
 * stderr by default for the command's own lines (a retried request or a Redis outage is logged at warning, and
 * `check` reports a failed request or store itself). No argument is ever printed back.
 */
export const run = (
  argv: ReadonlyArray<string>,
  version: string
): Effect.Effect<ExitCode, never, CliApp.CliApp.Environment | CliEnvironment> =>
  // Refused before @effect/cli parses it, with a hint of its own: whoever tries it has just typed the secret.
  argv.slice(2).some((arg) => arg === "--client-secret" || arg.startsWith("--client-secret="))
    ? Effect.as(printError(secretFlagHint), ExitCode.usage)
    : Effect.flatMap(Effect.console, (console) =>
      Command.run(
        // The commands print on the real console; only the parsing around them is silenced.
        Command.transformHandler(root, (handler) => Console.withConsole(handler, console)),
        { name: "cair-auth", version, footer }
      )(argv).pipe(
        Console.withConsole(withoutParseErrors(console)),
        Effect.as(ExitCode.ok),
        Effect.catchAll((error): Effect.Effect<ExitCode> =>
          ValidationError.isValidationError(error)
            ? Effect.as(printError(commandLineErrorLine(error, argv.slice(2))), ExitCode.usage)
            : Effect.succeed(error.exitCode as ExitCode)
        ),
        Logger.withMinimumLogLevel(LogLevel.Error),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true })))
      ))
