import type { CairAuthError } from "@cair/auth/CairAuthError"
import * as Schema from "effect/Schema"
import { ExitCode } from "./exitCode.js"

/**
 * The configuration is not usable: one line per problem, each naming the variable or flag and what to do about
 * it. Never holds a secret.
 */
export class ConfigurationError extends Schema.TaggedError<ConfigurationError>()("ConfigurationError", {
  lines: Schema.NonEmptyArray(Schema.String)
}) {
  override get message(): string {
    return this.lines.join("\n")
  }
}

/** The flags do not make sense together. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  description: Schema.String
}) {
  override get message(): string {
    return this.description
  }
}

/** The shared store (`CAIR_REDIS_URL`) is configured but did not answer: each process gets a token of its own. */
export class SharedStoreFailed extends Schema.TaggedError<SharedStoreFailed>()("SharedStoreFailed", {
  description: Schema.String
}) {
  override get message(): string {
    return `the shared store ${this.description}`
  }
}

/** A command failed, and said why on stderr: the process ends with `exitCode`. */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  exitCode: Schema.Number
}) {}

/** What a command can fail with, before it is reported. */
export type CliError = ConfigurationError | UsageError | SharedStoreFailed | CairAuthError

/** The exit code of a failure. */
export const exitCodeOf = (error: CliError): ExitCode => {
  switch (error._tag) {
    case "ConfigurationError":
      return ExitCode.configuration
    case "UsageError":
      return ExitCode.usage
    case "SharedStoreFailed":
      return ExitCode.sharedStore
    case "InvalidCredentials":
      return ExitCode.invalidCredentials
    case "TokenRequestFailed":
    case "MalformedTokenResponse":
      return ExitCode.unavailable
  }
}
