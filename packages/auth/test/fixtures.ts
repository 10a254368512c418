import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { TokenSet } from "../src/TokenSet.js"
import type * as TokenStore from "../src/TokenStore.js"

/** Distinctive values: every test can check that none of them ever shows up in output. */
export const secrets = {
  clientSecret: "S3CRET-client-secret-9f8e7d",
  accessToken: (n: number) => `AT-secret-access-${n}-x1y2z3`,
  refreshToken: (n: number) => `RT-secret-refresh-${n}-q4w5e6`
}

export const credentials = { clientId: "clinic-42", clientSecret: secrets.clientSecret }

export interface RecordedRequest {
  readonly path: string
  readonly body: Record<string, unknown>
  readonly at: number
}

export type Reply = Response | "hang" | "network-error"

/**
 * A scripted `HttpClient`: every request is recorded with the (test) clock time and answered by
 * `respond`, which sees the request, how many came before it, and the current time.
 */
export const scriptedHttp = (
  respond: (request: RecordedRequest, index: number) => Effect.Effect<Reply>
) =>
  Effect.gen(function*() {
    const log = yield* Ref.make(List.empty<RecordedRequest>())
    const client = HttpClient.make((request: HttpClientRequest.HttpClientRequest, url) =>
      Effect.gen(function*() {
        const bytes = request.body._tag === "Uint8Array" || request.body._tag === "Raw" ? request.body.body : undefined
        const body = bytes instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(bytes)) : {}
        const recorded: RecordedRequest = { path: url.pathname, body, at: yield* Clock.currentTimeMillis }
        const index = yield* Ref.modify(log, (list) => [List.size(list), List.append(list, recorded)])
        const reply = yield* respond(recorded, index)
        if (reply === "hang") return yield* Effect.never
        if (reply === "network-error") {
          return yield* new HttpClientError.RequestError({ request, reason: "Transport", cause: "connection reset" })
        }
        return HttpClientResponse.fromWeb(request, reply)
      })
    )
    const count = (path?: string) =>
      Effect.map(Ref.get(log), (list) => List.toArray(list).filter((r) => path === undefined || r.path === path).length)
    return {
      layer: Layer.succeed(HttpClient.HttpClient, client),
      count,
      /** Lets other fibers run until `n` requests have arrived (a background one, say). */
      awaitCount: (n: number) =>
        Effect.yieldNow().pipe(
          Effect.zipRight(count()),
          Effect.repeat({ until: (seen) => seen >= n, times: 10_000 }),
          Effect.filterOrDieMessage((seen) => seen >= n, `expected ${n} requests`)
        ),
      requests: Effect.map(Ref.get(log), List.toArray)
    }
  })

export interface TokenReply {
  readonly n: number
  readonly now: number
  readonly ttlMs?: number
  readonly refreshTtlMs?: number
  readonly date?: number | undefined
}

/** A 200 token set answer, issued at `now` by the server's clock. */
export const tokenResponse = ({ date, n, now, refreshTtlMs = 86_400_000, ttlMs = 600_000 }: TokenReply) =>
  new Response(
    JSON.stringify({
      accessToken: secrets.accessToken(n),
      refreshToken: secrets.refreshToken(n),
      expiresAt: new Date(now + ttlMs).toISOString(),
      refreshTokenExpiresAt: new Date(now + refreshTtlMs).toISOString()
    }),
    {
      status: 200,
      headers: {
        "content-type": "application/json",
        ...(date === undefined ? {} : { date: new Date(date).toUTCString() })
      }
    }
  )

export const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers }
  })

/** Collects every log line (message and annotations) so tests can scan them for secrets. */
export const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push(`${logLevel.label} ${JSON.stringify(message)} ${JSON.stringify([...annotations])}`)
  })
  return { layer: Logger.replace(Logger.defaultLogger, logger), lines }
}

export const allSecrets = (upTo = 20): ReadonlyArray<string> => [
  secrets.clientSecret,
  ...Array.from({ length: upTo }, (_, n) => secrets.accessToken(n)),
  ...Array.from({ length: upTo }, (_, n) => secrets.refreshToken(n))
]

/** The token set `n` as a process of the fleet stored it at `now`: a 10-minute token, a day's refresh token. */
export const storedTokenSet = (now: number, n: number): TokenStore.StoredTokenSet => ({
  tokens: TokenSet.make({
    accessToken: Redacted.make(secrets.accessToken(n)),
    refreshToken: Redacted.make(secrets.refreshToken(n)),
    expiresAt: new Date(now + 600_000),
    refreshTokenExpiresAt: new Date(now + 86_400_000)
  }),
  sentAt: now,
  receivedAt: now,
  serverDate: undefined
})
