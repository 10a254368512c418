import * as CairAuth from "@cair/auth/CairAuth"
import * as TokenEndpoint from "@cair/auth/TokenEndpoint"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { UsageError } from "./errors.js"
import { reporting } from "./report.js"
import { CliEnvironment, connectionFlags, resolve } from "./settings.js"
import * as SharedStore from "./sharedStore.js"

/** How `token` prints the token. */
export type Format = "token" | "header" | "json"

/** What `--json` prints: the token set's public fields and the access token; the refresh token only when asked. */
export interface JsonOutput {
  readonly accessToken: string
  readonly expiresAt: string
  readonly refreshTokenExpiresAt: string
  readonly refreshToken?: string
}

const format = (
  header: boolean,
  json: boolean,
  includeRefreshToken: boolean
): Effect.Effect<Format, UsageError> => {
  if (header && json) return new UsageError({ description: "--header and --json do not go together" })
  if (includeRefreshToken && !json) {
    return new UsageError({ description: "--include-refresh-token goes with --json" })
  }
  return Effect.succeed(header ? "header" : json ? "json" : "token")
}

/** The text `token` prints for `access`, without the final newline. */
export const render = (access: CairAuth.AccessToken, format: Format, includeRefreshToken: boolean): string => {
  const accessToken = Redacted.value(access.token)
  switch (format) {
    case "token":
      return accessToken
    case "header":
      return `Authorization: Bearer ${accessToken}`
    case "json": {
      const output: JsonOutput = {
        accessToken,
        expiresAt: access.tokenSet.expiresAt.toISOString(),
        refreshTokenExpiresAt: access.tokenSet.refreshTokenExpiresAt.toISOString(),
        ...(includeRefreshToken ? { refreshToken: Redacted.value(access.tokenSet.refreshToken) } : {})
      }
      return JSON.stringify(output, null, 2)
    }
  }
}

/**
 * `cair-auth token`: the access token on stdout and nothing else, for `curl -H "Authorization: Bearer $(…)"`. With
 * `CAIR_REDIS_URL`, the fleet's token from the shared store when it holds a valid one.
 */
export const tokenCommand = Command.make("token", {
  connection: connectionFlags,
  header: Options.boolean("header").pipe(Options.withDescription("Print `Authorization: Bearer <token>`.")),
  json: Options.boolean("json").pipe(
    Options.withDescription("Print the token and its expiry times as JSON (without the refresh token).")
  ),
  includeRefreshToken: Options.boolean("include-refresh-token").pipe(
    Options.withDescription("With --json: include the refresh token too.")
  )
}, ({ connection, header, includeRefreshToken, json }) =>
  reporting(Effect.gen(function*() {
    const chosen = yield* format(header, json, includeRefreshToken)
    const environment = yield* CliEnvironment
    const settings = yield* resolve(connection, environment)
    const { baseUrl, clientId, clientSecret } = settings.options
    // The store needs the base URL and the secret too: it keys and seals what it shares with them.
    const auth = Layer.scoped(CairAuth.CairAuth, CairAuth.make({ clientId, baseUrl, clientSecret })).pipe(
      Layer.provide(TokenEndpoint.layer(settings.options)),
      Layer.provide(SharedStore.layer(environment)),
      Layer.provide(NodeHttpClient.layer)
    )
    const access = yield* Effect.flatMap(CairAuth.CairAuth, (service) => service.get).pipe(Effect.provide(auth))
    yield* Console.log(render(access, chosen, includeRefreshToken))
  }))).pipe(
    Command.withDescription(
      "Print an access token and a newline on stdout, and nothing else: " +
        "curl -H \"Authorization: Bearer $(cair-auth token)\" …"
    )
  )
