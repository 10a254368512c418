import type { CairAuthError } from "@cair/auth/CairAuthError"
import * as HelpDoc from "@effect/cli/HelpDoc"
import type * as ValidationError from "@effect/cli/ValidationError"
import type * as ConfigError from "effect/ConfigError"
import type { CliError } from "./errors.js"

/**
 * What the CLI knows about each setting of `CairAuth.config`: what it is, and how to give it. The key is the
 * name of the variable `CairAuth.config` reads.
 */
export interface Setting {
  readonly flag: string | undefined
  readonly what: string
  readonly how: string
}

/** The settings of `CairAuth.config`, by variable. */
export const settings: Readonly<Record<string, Setting>> = {
  CAIR_CLIENT_ID: {
    flag: "--client-id",
    what: "the client id from the Cair admin panel",
    how: "export CAIR_CLIENT_ID, or pass --client-id ID"
  },
  CAIR_CLIENT_SECRET: {
    flag: undefined,
    what: "the client secret from the Cair admin panel",
    how: "export CAIR_CLIENT_SECRET, pass --client-secret-file FILE, or run cair-auth in a terminal to type it"
  },
  CAIR_BASE_URL: {
    flag: "--base-url",
    what: "the Cair API's origin, https://forecaster.cairhealth.com when unset",
    how: "fix CAIR_BASE_URL or unset it, or pass --base-url URL"
  }
}

/** Where a variable's value came from: the environment, or the flag that overrides it. */
export type Source = "environment" | "flag"

/** One leaf of a `ConfigError`. */
export interface Problem {
  readonly kind: "missing" | "invalid" | "other"
  readonly path: ReadonlyArray<string>
  readonly message: string
}

/** The leaves of a `ConfigError`, left to right. */
export const problems = (error: ConfigError.ConfigError): Array<Problem> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...problems(error.left), ...problems(error.right)]
    case "MissingData":
      return [{ kind: "missing", path: error.path, message: error.message }]
    case "InvalidData":
      return [{ kind: "invalid", path: error.path, message: error.message }]
    case "SourceUnavailable":
    case "Unsupported":
      return [{ kind: "other", path: error.path, message: error.message }]
  }
}

/**
 * A `ConfigError` of `CairAuth.config` as one line per problem: the variable (or the flag that gave the value),
 * what is wrong and how to fix it. `Or` branches that say the same thing are said once.
 *
 * - `sourceOf(name)` tells where the value of a variable came from, to name the flag when it was one;
 * - `isEmpty(name)` tells a variable set to the empty string from one that is not set.
 */
export const configErrorLines = (
  error: ConfigError.ConfigError,
  sourceOf: (name: string) => Source,
  isEmpty: (name: string) => boolean
): ReadonlyArray<string> => {
  const lines = problems(error).map((problem) => {
    const name = problem.path.join("_")
    const setting = settings[name]
    const fromFlag = sourceOf(name) === "flag" && setting?.flag !== undefined
    const label = fromFlag ? setting!.flag! : name
    const what = setting === undefined ? "" : ` (${fromFlag ? setting.what : `${setting.what}; ${setting.how}`})`
    switch (problem.kind) {
      case "missing":
        return `${label} ${isEmpty(name) ? "is empty" : "is not set"}${what}`
      case "invalid":
        // A secret's message is "<redacted>" (Config.redacted): nothing to add.
        return `${label} is invalid${problem.message === "<redacted>" ? "" : `: ${problem.message}`}${what}`
      case "other":
        return `${label} cannot be read: ${problem.message}`
    }
  })
  return [...new Set(lines)]
}

const baseUrlHint = "is CAIR_BASE_URL (or --base-url) the Cair API's origin?"

/** A `CairAuthError` as one line: the typed error's message and a hint. Never holds a secret. */
export const cairAuthErrorLine = (error: CairAuthError): string => {
  switch (error._tag) {
    case "InvalidCredentials":
      // The message already says what to check.
      return error.message
    case "MalformedTokenResponse":
      return `${error.message} (${baseUrlHint})`
    case "TokenRequestFailed": {
      switch (error.reason) {
        case "Transport":
          return `${error.message} (is the server up, and CAIR_BASE_URL (or --base-url) the Cair API's origin?)`
        case "Timeout":
          return `${error.message} (the server did not answer in time; --timeout SECONDS waits longer)`
        case "Redirected":
          return `${error.message} (${baseUrlHint})`
        case "ExpiredOnArrival":
          return `${error.message} (check this machine's clock, NTP, and the server's Date header)`
        case "Closed":
          return error.message
        case "Status":
          return error.status !== undefined && error.status < 500 && error.status !== 408 && error.status !== 429
            ? `${error.message} (${baseUrlHint})`
            : `${error.message} (the Cair service is failing: try again later)`
      }
    }
  }
}

/** Every line a failure prints on stderr, without the `cair-auth:` prefix. */
export const errorLines = (error: CliError): ReadonlyArray<string> => {
  switch (error._tag) {
    case "ConfigurationError":
      return error.lines
    case "UsageError":
      return [`${error.description} (see cair-auth --help)`]
    case "SharedStoreFailed":
      return [
        `the shared store ${error.description} (each process gets a token of its own meanwhile; is CAIR_REDIS_URL ` +
        "right, and is Redis up?)"
      ]
    default:
      return [cairAuthErrorLine(error)]
  }
}

/** The commands of `cair-auth`: names of ours, safe to print, unlike the arguments around them. */
const commands: ReadonlyArray<string> = ["token", "check"]

/**
 * A command line that @effect/cli refused, as one line that never shows an argument: @effect/cli's own messages
 * quote it, and an argument may be a secret pasted in the wrong place. It says what is wrong, the argument's
 * position when known, and where to look. `args` is the command line after the program's name.
 */
export const commandLineErrorLine = (error: ValidationError.ValidationError, args: ReadonlyArray<string>): string => {
  const command = args.find((arg) => commands.includes(arg))
  const help = `see cair-auth${command === undefined ? "" : ` ${command}`} --help`
  switch (error._tag) {
    case "CommandMismatch":
      return `unknown command (value not shown): give token or check, after --log-level LEVEL if any (${help})`
    case "InvalidValue": {
      // The argument is looked up to give its position, and never printed.
      const unknown = /^Received unknown argument: '([\s\S]*)'\s*$/.exec(HelpDoc.toAnsiText(error.error))
      if (unknown !== null) {
        const head = unknown[1]!
        // `--header=VALUE` is refused as `VALUE`, once the flag took its part.
        const position = args.findIndex((arg) => arg === head || arg.endsWith(`=${head}`)) + 1
        return `unexpected argument${position > 0 ? ` ${position}` : ""} (value not shown): not a flag of ` +
          `cair-auth${command === undefined ? "" : ` ${command}`}, a value where none is taken, or a flag without ` +
          `its value (${help}; if it was a secret, consider it exposed)`
      }
      return `a flag's value is invalid (value not shown) (${help} for what each flag takes)`
    }
    default:
      return `invalid command line (value not shown) (${help})`
  }
}
