/**
 * The exit codes of `cair-auth`, one per thing an operator does next. Documented in the README and in
 * `cair-auth --help`; a script may branch on them.
 */
export const ExitCode = {
  /** Done: the token was printed, or every check passed. */
  ok: 0,
  /** A failure cair-auth did not expect (a bug: please report it with `--log-level debug`). */
  unexpected: 1,
  /** The command line is wrong: an unknown command or flag, or flags that do not go together. */
  usage: 2,
  /** The configuration is missing or invalid: a variable, a flag or the secret file. */
  configuration: 3,
  /** The token endpoint rejected the client id and secret. */
  invalidCredentials: 4,
  /** The token endpoint could not be reached, timed out, or answered with something other than a token. */
  unavailable: 5,
  /** `check`: the token endpoint is fine, but the shared store at `CAIR_REDIS_URL` did not answer. */
  sharedStore: 6
} as const

/** One of the documented exit codes. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode]
