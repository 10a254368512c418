import * as CairAuth from "@cair/auth/CairAuth"
import * as Options from "@effect/cli/Options"
import * as Prompt from "@effect/cli/Prompt"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Terminal from "@effect/platform/Terminal"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { configErrorLines, problems, type Source } from "./errorLines.js"
import { ConfigurationError } from "./errors.js"

/** The flags that override `CairAuth.config`, shared by every command that talks to the token endpoint. */
export interface ConnectionFlags {
  readonly clientId: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly clientSecretFile: Option.Option<string>
  readonly timeoutSeconds: number
}

/** The longest `--timeout`: a request that has not answered in ten minutes will not. */
const maxTimeoutSeconds = 600

/**
 * The connection flags. The secret has no flag of its own on purpose: a flag's value lands in the shell's
 * history and in `ps`. It comes from `CAIR_CLIENT_SECRET`, a file, or a prompt.
 */
export const connectionFlags: Options.Options<ConnectionFlags> = Options.all({
  clientId: Options.text("client-id").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("The client id, instead of CAIR_CLIENT_ID."),
    Options.optional
  ),
  baseUrl: Options.text("base-url").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription(
      "The Cair API's origin, instead of CAIR_BASE_URL (default https://forecaster.cairhealth.com)."
    ),
    Options.optional
  ),
  // Text, not `Options.file`: that accepts regular files only, and /dev/stdin is not one.
  clientSecretFile: Options.text("client-secret-file").pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription(
      "Read the client secret from this file (surrounding whitespace is dropped), instead of CAIR_CLIENT_SECRET; " +
        "- reads it from stdin. Without either, cair-auth asks for it when run in a terminal."
    ),
    Options.optional
  ),
  timeoutSeconds: Options.float("timeout").pipe(
    Options.withPseudoName("SECONDS"),
    Options.withSchema(Schema.Number.pipe(Schema.positive(), Schema.lessThanOrEqualTo(maxTimeoutSeconds))),
    Options.withDescription(`How long one token request may take, in seconds (at most ${maxTimeoutSeconds}).`),
    Options.withDefault(10)
  )
})

/** Where the client secret came from: said by `check`, never the secret itself. */
export type SecretSource = "CAIR_CLIENT_SECRET" | "--client-secret-file" | "prompt"

/** The options of `@cair/auth`, resolved from the environment and the flags. */
export interface Settings {
  readonly options: CairAuth.Options & { readonly clientSecret: Redacted.Redacted<string> }
  readonly clientId: string
  readonly baseUrl: string
  readonly secretSource: SecretSource
}

/** What the settings are read from: the process's environment, and whether a person is there to type a secret. */
export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly interactive: boolean
  /** What `--client-secret-file -` reads. */
  readonly stdin: Stream.Stream<Uint8Array>
}

/** The environment of the running process. */
export class CliEnvironment extends Context.Tag("@cair/auth-cli/CliEnvironment")<CliEnvironment, Environment>() {}

/** The process's own environment: a person is there when both stdin (to type) and stderr (to ask) are terminals. */
export const layerProcess: Layer.Layer<CliEnvironment> = Layer.sync(CliEnvironment, () => ({
  env: process.env,
  interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  stdin: NodeStream.stdin
}))

const fileProblem = (reason: string): string => {
  switch (reason) {
    case "NotFound":
      return "no such file"
    case "PermissionDenied":
      return "permission denied"
    case "BadResource":
      return "not a file"
    default:
      return reason
  }
}

/** Says so on stderr when other users may read the secret file, as ssh does for a key. */
const warnIfShared = (fs: FileSystem.FileSystem, path: string) =>
  fs.stat(path).pipe(
    Effect.flatMap((info) =>
      info.type === "File" && (info.mode & 0o077) !== 0
        ? Console.error(
          `cair-auth: warning: other users can read --client-secret-file ${path} (chmod 600 ${path})`
        )
        : Effect.void
    ),
    Effect.ignore
  )

/** A client secret is a few dozen bytes: past this, the file is not one (and `/dev/zero` does not hang us). */
const maxSecretBytes = 64 * 1024

/** Reads the first `maxSecretBytes` (and one more, to tell an oversized input) of `bytes` as text. */
const readBounded = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>) =>
  bytes.pipe(
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (acc) => acc.size <= maxSecretBytes,
      (acc, chunk) => {
        acc.chunks.push(chunk)
        return { chunks: acc.chunks, size: acc.size + chunk.length }
      }
    ),
    Effect.map((acc) => acc.size > maxSecretBytes ? undefined : Buffer.concat(acc.chunks).toString("utf8"))
  )

/** `--client-secret-file FILE`, or `-` for stdin: trimmed, not empty, not huge. */
const readSecretFile = (path: string, stdin: Stream.Stream<Uint8Array>) => {
  const problem = (text: string) => new ConfigurationError({ lines: [`--client-secret-file ${path} ${text}`] })
  const text = path === "-" ?
    readBounded(stdin) :
    Effect.flatMap(FileSystem.FileSystem, (fs) =>
      readBounded(fs.stream(path)).pipe(
        Effect.zipLeft(warnIfShared(fs, path)),
        Effect.mapError((error) =>
          problem(
            `cannot be read: ${
              error._tag === "SystemError" ? fileProblem(error.reason) : error.description ?? error.message
            }`
          )
        )
      ))
  return text.pipe(
    Effect.flatMap((text) =>
      text === undefined
        ? problem(`is longer than ${maxSecretBytes} bytes: it is not a client secret`)
        : text.trim() === ""
        ? problem("is empty (it should hold the client secret)")
        : Effect.succeed(Redacted.make(text.trim()))
    )
  )
}

/** A terminal that draws prompts on stderr: stdout carries the token, often into `$(…)` or a pipe. */
const stderrTerminal = Layer.effect(
  Terminal.Terminal,
  Effect.map(Terminal.Terminal, (terminal) =>
    Terminal.Terminal.of({
      ...terminal,
      columns: Effect.sync(() => process.stderr.columns ?? 0),
      rows: Effect.sync(() => process.stderr.rows ?? 0),
      isTTY: Effect.sync(() => process.stderr.isTTY === true),
      display: (text) => Effect.sync(() => void process.stderr.write(text))
    }))
)

const promptSecret = (clientId: string) =>
  Prompt.run(
    Prompt.hidden({
      message: `Client secret of ${clientId}`,
      validate: (secret) => secret.trim() === "" ? Effect.fail("The secret is empty") : Effect.succeed(secret.trim())
    })
  ).pipe(
    Effect.provide(stderrTerminal),
    Effect.catchTag("QuitException", () =>
      new ConfigurationError({ lines: ["CAIR_CLIENT_SECRET is not set, and no secret was typed"] }))
  )

/**
 * Reads `CairAuth.config` from the environment with the flags laid over it (a flag wins over its variable, also
 * when it is empty), the secret from `--client-secret-file` when given, and asks for the secret in a terminal when
 * it is the only thing missing.
 */
export const resolve = (
  flags: ConnectionFlags,
  environment: Environment
): Effect.Effect<Settings, ConfigurationError, FileSystem.FileSystem | Path.Path | Terminal.Terminal> =>
  Effect.gen(function*() {
    const overrides = new Map<string, string>()
    if (Option.isSome(flags.clientId)) overrides.set("CAIR_CLIENT_ID", flags.clientId.value)
    if (Option.isSome(flags.baseUrl)) overrides.set("CAIR_BASE_URL", flags.baseUrl.value)
    let secretSource: SecretSource = "CAIR_CLIENT_SECRET"
    let secret: Option.Option<Redacted.Redacted<string>> = Option.none()
    if (Option.isSome(flags.clientSecretFile)) {
      secret = Option.some(yield* readSecretFile(flags.clientSecretFile.value, environment.stdin))
      secretSource = "--client-secret-file"
    }

    // What CairAuth.config reads: the environment, the flags over it, and the secret from the file or the prompt.
    const values = () => {
      const map = new Map<string, string>()
      for (const [name, value] of Object.entries(environment.env)) if (value !== undefined) map.set(name, value)
      for (const [name, value] of overrides) map.set(name, value)
      if (Option.isSome(secret)) map.set("CAIR_CLIENT_SECRET", Redacted.value(secret.value))
      return map
    }
    const read = (map: Map<string, string>) =>
      Effect.either(
        Effect.withConfigProvider(CairAuth.config, ConfigProvider.fromMap(map, { pathDelim: "_", seqDelim: "," }))
      )

    let map = values()
    let config = yield* read(map)
    if (
      Either.isLeft(config) && Option.isNone(secret) && environment.interactive &&
      problems(config.left).every((problem) =>
        problem.kind === "missing" && problem.path.join("_") === "CAIR_CLIENT_SECRET"
      )
    ) {
      secret = Option.some(yield* promptSecret(map.get("CAIR_CLIENT_ID") ?? ""))
      secretSource = "prompt"
      map = values()
      config = yield* read(map)
    }
    if (Either.isLeft(config)) {
      const sourceOf = (name: string): Source => overrides.has(name) ? "flag" : "environment"
      const lines = configErrorLines(config.left, sourceOf, (name) => map.get(name)?.trim() === "")
      return yield* new ConfigurationError({ lines: [lines[0] ?? config.left.message, ...lines.slice(1)] })
    }

    const options = { ...config.right, requestTimeoutMs: flags.timeoutSeconds * 1_000 }
    const checked = CairAuth.validateOptions(options)
    if (Either.isLeft(checked)) return yield* new ConfigurationError({ lines: [checked.left.message] })
    const clientSecret = options.clientSecret
    return {
      options: {
        ...options,
        clientSecret: Redacted.isRedacted(clientSecret) ? clientSecret : Redacted.make(clientSecret)
      },
      clientId: options.clientId,
      baseUrl: String(options.baseUrl),
      secretSource
    }
  })
