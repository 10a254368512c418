/**
 * One line of plain English for a failure at a program's edge: a missing or invalid `CAIR_*`
 * variable, rejected credentials, an unreachable or failing token endpoint. For a command line,
 * a demo or a service's startup log, where a stack trace or Effect's `Cause` rendering is noise.
 * The line never holds a secret or a token (our errors never carry one).
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as internal from "./internal/errorMessage.js"

/**
 * The failure as one line, with a hint where the message has none:
 *
 * - a `ConfigError` (also several, from `Config.all`): each variable and what is wrong with it,
 *   e.g. `CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel)`;
 * - an error with a `_tag` (ours, the Promise adapter's, `@effect/platform`'s): the tag, the
 *   message and what to check, e.g. `TokenRequestFailed: … (is the base URL (CAIR_BASE_URL) right,
 *   and can this machine reach it?)`;
 * - anything else: its message, or `String(error)`, on one line.
 *
 * @example
 * ```ts
 * import { CairAuth, ErrorMessage } from "@cair/auth"
 * import * as Effect from "effect/Effect"
 * import * as ConfigProvider from "effect/ConfigProvider"
 *
 * const options = CairAuth.config.pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CAIR_CLIENT_ID", "clinic-42"]]))),
 *   Effect.mapError(ErrorMessage.format)
 * )
 * // Fails with "CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel)"
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const format: (error: unknown) => string = internal.format

/**
 * The line for a `Cause`: its first failure, else its first defect (an `InvalidOptions` thrown by
 * `CairAuth.layer`, say), else `"interrupted"`. For the edge of an Effect program, where
 * `Cause.pretty` would print stack frames.
 *
 * @example
 * ```ts
 * import { ErrorMessage } from "@cair/auth"
 * import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
 * import * as Cause from "effect/Cause"
 * import * as Console from "effect/Console"
 * import * as Effect from "effect/Effect"
 *
 * declare const main: Effect.Effect<void, unknown>
 * const verbose = process.argv.includes("--verbose")
 *
 * // One line on failure (the whole cause with --verbose), exit status 1.
 * main.pipe(
 *   Effect.tapErrorCause((cause) =>
 *     Cause.isInterruptedOnly(cause)
 *       ? Effect.void
 *       : Console.error(verbose ? Cause.pretty(cause) : ErrorMessage.formatCause(cause))
 *   ),
 *   NodeRuntime.runMain({ disableErrorReporting: true })
 * )
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatCause: (cause: Cause.Cause<unknown>) => string = internal.formatCause
