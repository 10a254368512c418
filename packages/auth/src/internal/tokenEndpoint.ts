import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import { flow, identity } from "effect/Function"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import {
  InvalidCredentials,
  MalformedTokenResponse,
  RefreshTokenRejected,
  TokenRequestFailed
} from "../CairAuthError.js"
import type * as TokenEndpoint from "../TokenEndpoint.js"
import { ClientCredentials, RefreshRequest, TokenSet } from "../TokenSet.js"
import { clockOffset } from "./lifetime.js"
import * as Metrics from "./metrics.js"
import { answeredFrom, isRedirect, redirectOrigin, withoutRedirects } from "./noRedirects.js"
import type { ResolvedOptions } from "./options.js"
import { parseRetryAfter } from "./retryAfter.js"

/** @internal */
export const tag = Context.GenericTag<TokenEndpoint.TokenEndpoint, TokenEndpoint.TokenEndpoint.Service>(
  "@cair/auth/TokenEndpoint"
)

/** A token set is a few hundred bytes; anything past this is not one. */
const maxBodyBytes = 64 * 1024

/**
 * No delay between two attempts of a cycle is longer than this: a `Retry-After` asking for more ends the cycle
 * (the rest that follows honours it, up to its own cap), and a longer delay of a `retrySchedule` is cut to it.
 * With the attempt timeout and `maxRetries` it bounds how long a cycle takes.
 *
 * @internal
 */
export const maxRetryDelayMs = 60_000

/**
 * Exponential backoff from 200 ms, doubling up to 5 seconds, each delay jittered by up to 20% either way (so at
 * most 6 s): the processes of a fleet that failed together do not retry together. The cap comes before the
 * jitter, so that the capped delays are spread too; `retryPolicy`'s cap and `Retry-After` apply after it.
 *
 * @internal
 */
export const defaultRetrySchedule: Schedule.Schedule<unknown, TokenRequestFailed> = Schedule.exponential(
  "200 millis"
).pipe(
  // `(output, delay)`: the output of `exponential` is its delay before any jitter.
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(5))),
  Schedule.jittered
)

/** Waits at least as long as the server's `Retry-After`, and gives up when it asks for too long. */
const honourRetryAfter = Schedule.identity<TokenRequestFailed>().pipe(
  Schedule.whileInput((error) => (error.retryAfterMs ?? 0) <= maxRetryDelayMs),
  Schedule.addDelay((error) => Duration.millis(error.retryAfterMs ?? 0))
)

/**
 * The delays of the schedule in whole milliseconds (each at most `maxRetryDelayMs`), `maxRetries` of them, each
 * at least the server's `Retry-After`. Every retry is logged at warning with its attempt number, the reason and
 * the delay. Whole milliseconds: a jittered delay is fractional, and the `TestClock` cannot sleep for one (its
 * `BigInt` conversion throws).
 */
const retryPolicy = (options: ResolvedOptions, endpoint: string) =>
  (options.retrySchedule ?? defaultRetrySchedule).pipe(
    Schedule.modifyDelay((_, delay) =>
      Duration.millis(Math.min(Math.round(Duration.toMillis(delay)), maxRetryDelayMs))
    ),
    Schedule.intersect(Schedule.recurs(options.maxRetries)),
    Schedule.intersect(honourRetryAfter),
    Schedule.modifyDelayEffect(([[, retries], error], delay) =>
      Effect.as(
        Effect.logWarning(
          `Cair token request to ${endpoint}: attempt ${retries + 1} of ${options.maxRetries + 1} failed ` +
            `(${attemptReason(error)}); next attempt in ${Math.round(Duration.toMillis(delay))} ms`
        ),
        delay
      )
    )
  )

/** Why an attempt failed, for a log line: the reason, the status, the cause. Never a secret. */
const attemptReason = (error: TokenRequestFailed): string =>
  `${error.reason}${error.status === undefined ? "" : ` HTTP ${error.status}`}: ${error.description}` +
  (error.retryAfterMs === undefined ? "" : `; Retry-After ${error.retryAfterMs} ms`)

type Permanent = InvalidCredentials | RefreshTokenRejected | MalformedTokenResponse

const statusDescription = (status: number): string =>
  status === 429
    ? "rate limited"
    : status === 408
    ? "the server timed out waiting for the request"
    : status >= 500
    ? "server error"
    : "unexpected status"

/** Reads the body as text, or `None` once it grows past `maxBodyBytes`. */
const readBody = (response: HttpClientResponse.HttpClientResponse) =>
  Stream.runFoldWhile(
    response.stream,
    { chunks: Chunk.empty<Uint8Array>(), size: 0 },
    (acc) => acc.size <= maxBodyBytes,
    (acc, chunk) => ({ chunks: Chunk.append(acc.chunks, chunk), size: acc.size + chunk.length })
  ).pipe(
    Effect.map((acc) =>
      acc.size > maxBodyBytes
        ? Option.none()
        : Option.some(Buffer.concat(Chunk.toArray(acc.chunks)).toString("utf8"))
    )
  )

/**
 * Lets go of the body of an answer that is not read (an error status, a redirect): its first chunk at most, within
 * a second, then the stream is cancelled. Left alone, a body that never ends (a proxy streaming an error page)
 * kept its socket, and the process, alive after `close()`.
 */
const discardBody = (response: HttpClientResponse.HttpClientResponse) =>
  Stream.runDrain(Stream.take(response.stream, 1)).pipe(Effect.timeout(Duration.seconds(1)), Effect.ignore)

/**
 * Bytes sent as they are but never shown: `toJSON`, `toString` and `util.inspect` answer `<redacted>`. A token
 * request's body is the client secret or a refresh token in plain JSON, and the request travels on with its
 * response and errors: into the HTTP client's span, into log lines, into any middleware of the app's client.
 */
class RedactedBytes extends Uint8Array {
  toJSON(): string {
    return "<redacted>"
  }
  override toString(): string {
    return "<redacted>"
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "<redacted>"
  }
}

/** Like `HttpClientRequest.schemaBodyJson`, for a body that holds a secret: see `RedactedBytes`. */
const secretBodyJson = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encode(Schema.parseJson(schema))
  return (request: HttpClientRequest.HttpClientRequest, value: A) =>
    Effect.map(Effect.orDie(encode(value)), (json) => {
      const bytes = new RedactedBytes(new TextEncoder().encode(json))
      return HttpClientRequest.setBody(
        request,
        HttpBody.raw(bytes, { contentType: "application/json", contentLength: bytes.length })
      )
    })
}

const originOf = (url: string): string => {
  try {
    return new URL(url).origin
  } catch {
    return "an unreadable URL"
  }
}

/** The encoders of the two request bodies, built once per process. */
const credentialsBody = secretBodyJson(ClientCredentials)
const refreshBody = secretBodyJson(RefreshRequest)

/** Whether two URLs name the same resource: origin and path (the query and fragment aside). */
const sameResource = (a: string, b: string): boolean => {
  try {
    const [x, y] = [new URL(a), new URL(b)]
    return x.origin === y.origin && x.pathname === y.pathname
  } catch {
    return false
  }
}

/** The root cause of a transport failure, e.g. `connect ECONNREFUSED 127.0.0.1:9` under fetch's `fetch failed`. */
const innermostMessage = (cause: unknown): string | undefined =>
  cause instanceof Error ? innermostMessage(cause.cause) ?? cause.message : undefined

/**
 * The paths of a parse error's issues, from the tree of issues alone. A formatter (`ArrayFormatter`) writes a
 * message for each issue, which shows the actual value, recursively: 60 KB of nested arrays in a field overflow
 * the stack. The tree is as deep as the schema, whatever the body.
 */
const issuePaths = (
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>
): ReadonlyArray<{ readonly missing: boolean; readonly path: ReadonlyArray<PropertyKey> }> => {
  switch (issue._tag) {
    case "Pointer":
      return issuePaths(issue.issue, path.concat(issue.path))
    case "Composite":
      return Array.isArray(issue.issues)
        ? issue.issues.flatMap((inner) => issuePaths(inner, path))
        : issuePaths(issue.issues as ParseResult.ParseIssue, path)
    case "Refinement":
    case "Transformation":
      return issuePaths(issue.issue, path)
    default:
      return [{ missing: issue._tag === "Missing", path }]
  }
}

const describeParseError = (error: ParseResult.ParseError): ReadonlyArray<string> =>
  issuePaths(error.issue, []).map(({ missing, path }) => {
    const field = path.length === 0 ? "body" : path.map(String).join(".")
    return missing ? `${field} is missing` : `${field} has the wrong type or format`
  })

const decodeTokenSet = Schema.decodeUnknownEither(TokenSet)

const parseTokenSet = (
  endpoint: string,
  status: number,
  text: string
): Either.Either<TokenSet, MalformedTokenResponse> => {
  const malformed = (problems: ReadonlyArray<string>) => new MalformedTokenResponse({ endpoint, status, problems })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(malformed([text.trim() === "" ? "the body is empty" : "the body is not JSON"]))
  }
  return Either.mapLeft(
    decodeTokenSet(json, { onExcessProperty: "ignore" }),
    (error) => malformed(describeParseError(error))
  )
}

/**
 * `error.type` of an attempt's span, after the OpenTelemetry HTTP conventions: the status code when the server
 * answered one, else what went wrong.
 */
const errorType = (error: Permanent | TokenRequestFailed): string => {
  if (error._tag === "MalformedTokenResponse") return error._tag
  if (error._tag !== "TokenRequestFailed") return String(error.status)
  return error.status !== undefined ? String(error.status) : error.reason === "Timeout" ? "timeout" : "transport"
}

/** The attributes of an attempt's span, after the OpenTelemetry HTTP client conventions. Nothing secret. */
const attemptAttributes = (endpoint: string) => {
  const url = new URL(endpoint)
  return {
    "http.request.method": "POST",
    "server.address": url.hostname,
    "server.port": url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port),
    // The base URL carries no user name, password, query or fragment (`parseBaseUrl` refuses them).
    "url.full": endpoint,
    "url.template": url.pathname
  }
}

/** Adds the current span's `traceparent` to a request, as the HTTP client does for the spans it makes. */
const propagate = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(FiberRef.get(HttpClient.currentTracerPropagation), (enabled) =>
    enabled
      ? Effect.map(
        Effect.option(Effect.currentSpan),
        Option.match({
          onNone: () => request,
          onSome: (span) => HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span))
        })
      )
      : Effect.succeed(request))

/** @internal */
export const makeResolved = (options: ResolvedOptions) =>
  Effect.gen(function*() {
    // The spans of the attempts are ours (with `http.request.resend_count`): not the HTTP client's as well.
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(options.baseUrl), HttpClientRequest.acceptJson)),
      HttpClient.withTracerDisabledWhen(() => true)
    )
    const recorder = Metrics.make(options, yield* FiberRef.get(FiberRef.currentMetricLabels))

    const send = <E extends Permanent>(
      name: "token" | "refresh",
      path: string,
      request: Effect.Effect<HttpClientRequest.HttpClientRequest>,
      rejected: (status: number) => Option.Option<E>
    ): Effect.Effect<TokenEndpoint.IssuedTokenSet, E | TokenRequestFailed | MalformedTokenResponse> => {
      const endpoint = options.baseUrl + path
      const origin = originOf(endpoint)
      const attributes = attemptAttributes(endpoint)
      const failed = (
        reason: TokenRequestFailed["reason"],
        description: string,
        status?: number,
        retryAfterMs?: number
      ) => new TokenRequestFailed({ endpoint, reason, description, status, retryAfterMs })
      const fromHttpError = (error: HttpClientError.HttpClientError) =>
        failed("Transport", error.description ?? innermostMessage(error.cause) ?? error.reason)

      const attempt: Effect.Effect<
        Either.Either<TokenEndpoint.IssuedTokenSet, E | MalformedTokenResponse>,
        TokenRequestFailed
      > = Effect.gen(function*() {
        const sentAt = yield* Clock.currentTimeMillis
        const response = yield* withoutRedirects(
          request.pipe(Effect.flatMap(propagate), Effect.flatMap(client.execute))
        )
        const receivedAt = yield* Clock.currentTimeMillis
        const status = response.status
        yield* Effect.annotateCurrentSpan("http.response.status_code", status)
        // The body holds the client secret or a refresh token: a redirect is never followed (a 307 would send
        // it on), and an answer from elsewhere (an app's HttpClient that follows by itself) is not used.
        if (isRedirect(status)) {
          yield* discardBody(response)
          return yield* Effect.fail(
            failed("Status", `redirected to ${redirectOrigin(response, endpoint)}; not followed`, status)
          )
        }
        // A transport that followed a redirect by itself (a fetch that ignores `redirect: "manual"`,
        // `followRedirects` below the SDK): the request went on, and its answer is never used, whatever its origin.
        const answer = answeredFrom(response)
        if (answer.redirected || !sameResource(answer.url, endpoint)) {
          yield* discardBody(response)
          const answeredBy = originOf(answer.url)
          return yield* Effect.fail(
            failed(
              "Redirected",
              answeredBy === origin
                ? `the answer came through a redirect the HTTP client followed (to ${answeredBy}); not used`
                : `the answer came from another origin (${answeredBy}) after a redirect the HTTP client followed; ` +
                  "not used",
              status
            )
          )
        }
        const date = Date.parse(response.headers["date"] ?? "")
        const serverDate = Number.isNaN(date) ? undefined : date
        if (status < 200 || status >= 300) {
          yield* discardBody(response)
          const permanent = rejected(status)
          if (Option.isSome(permanent)) return Either.left(permanent.value)
          // A Retry-After date is on the server's clock: measured from its Date header, a skewed local clock
          // neither stretches the wait (a server ahead) nor cancels it (a server behind). A Date beyond the bound
          // of a correction (24 h) is a broken header: the local clock is used (a Date of 1970 made 56 years).
          const trusted = serverDate !== undefined && clockOffset({ sentAt, receivedAt, serverDate })._tag !== "Beyond"
          const retryAfter = parseRetryAfter(response.headers["retry-after"], trusted ? serverDate : receivedAt)
          return yield* Effect.fail(
            failed("Status", statusDescription(status), status, Option.getOrUndefined(retryAfter))
          )
        }
        const text = yield* readBody(response)
        if (Option.isNone(text)) {
          return Either.left(
            new MalformedTokenResponse({
              endpoint,
              status,
              problems: [`the body is larger than ${maxBodyBytes} bytes`]
            })
          )
        }
        return Either.map(parseTokenSet(endpoint, status, text.value), (tokens): TokenEndpoint.IssuedTokenSet => ({
          tokens,
          sentAt,
          receivedAt,
          serverDate
        }))
      }).pipe(
        Effect.catchTags({ RequestError: fromHttpError, ResponseError: fromHttpError }),
        Effect.timeoutFail({
          duration: Duration.millis(options.requestTimeoutMs),
          onTimeout: () => failed("Timeout", `no complete answer within ${options.requestTimeoutMs} ms`)
        })
      )

      // The last attempt of a cycle: logged here, since the schedule makes no delay for it.
      const gaveUp = (error: TokenRequestFailed, attempts: number) =>
        Effect.logWarning(
          `Cair token request to ${endpoint}: attempt ${attempts} of ${options.maxRetries + 1} failed ` +
            `(${attemptReason(error)}); ` +
            (!error.isTransient
              ? "not retried"
              : (error.retryAfterMs ?? 0) > maxRetryDelayMs
              ? `the server asked to wait longer than ${maxRetryDelayMs} ms: no more attempts in this cycle`
              : "no more attempts")
        )

      /**
       * One attempt in a span of its own. A permanent error fails the span too (a 4xx is an error of a client
       * span), then goes back to the success channel: it is not retried.
       */
      const spanned = (
        resendCount: number
      ): Effect.Effect<
        Either.Either<TokenEndpoint.IssuedTokenSet, E | MalformedTokenResponse>,
        TokenRequestFailed
      > =>
        attempt.pipe(
          Effect.flatMap(Either.match({ onLeft: Effect.fail, onRight: Effect.succeed })),
          Effect.tapError((error) => Effect.annotateCurrentSpan("error.type", errorType(error))),
          Effect.withSpan(`POST ${attributes["url.template"]}`, {
            kind: "client",
            attributes: resendCount === 0 ? attributes : { ...attributes, "http.request.resend_count": resendCount },
            captureStackTrace: false
          }),
          Effect.map(Either.right),
          Effect.catchIf(
            (error): error is E | MalformedTokenResponse => error._tag !== "TokenRequestFailed",
            (error) => Effect.succeed(Either.left(error))
          )
        )

      const retried = (reason: TokenRequestFailed["reason"]) =>
        recorder.bind(Metrics.specs.tokenRequestRetries, { "cair.auth.endpoint": name, "cair.auth.reason": reason })

      const cycle = Effect.suspend(() => {
        let attempts = 0
        let last: TokenRequestFailed | undefined
        return Effect.suspend(() => {
          if (last !== undefined) retried(last.reason)(1)
          return spanned(attempts++)
        }).pipe(
          Effect.tapError((error) => Effect.sync(() => (last = error))),
          Effect.retry({ schedule: retryPolicy(options, endpoint), while: (error) => error.isTransient }),
          Effect.tapError((error) => gaveUp(error, attempts)),
          Effect.flatMap(identity),
          Effect.ensuring(Effect.suspend(() => Effect.annotateCurrentSpan("cair.auth.attempts", attempts)))
        )
      })

      /** The request's count and duration, once it is over (not when it was interrupted). */
      const measured = <A, E1 extends Permanent | TokenRequestFailed>(self: Effect.Effect<A, E1>) =>
        Effect.flatMap(Clock.currentTimeNanos, (start) =>
          Effect.onExit(self, (exit) => {
            const error = Exit.isSuccess(exit) ? undefined : Cause.failureOption(exit.cause)
            if (error !== undefined && Option.isNone(error)) return Effect.void
            return Effect.map(Clock.currentTimeNanos, (end) => {
              const attributes = {
                "cair.auth.endpoint": name,
                ...Metrics.outcome(error?.value)
              }
              recorder.bind(Metrics.specs.tokenRequests, attributes)(1)
              recorder.bind(Metrics.specs.tokenRequestDuration, attributes)(Number(end - start) / 1e9)
            })
          }))

      return cycle.pipe(
        measured,
        Effect.withSpan(`TokenEndpoint.${name === "token" ? "requestToken" : "refresh"}`, {
          attributes: { "cair.client_id": options.clientId, "cair.auth.endpoint": name },
          captureStackTrace: false
        })
      )
    }

    // Built when it runs, as `refresh` is: a client holds the description of a request only while it is under way,
    // which matters to an app holding a client per organization, thousands of them.
    const requestToken = Effect.suspend(() =>
      send(
        "token",
        "/api/token",
        credentialsBody(
          HttpClientRequest.post("/api/token"),
          new ClientCredentials({ clientId: options.clientId, clientSecret: options.clientSecret })
        ),
        (status) =>
          status === 401 || status === 403
            ? Option.some(new InvalidCredentials({ clientId: options.clientId, status }))
            : Option.none()
      )
    )

    const refresh = (refreshToken: Redacted.Redacted<string>) =>
      send(
        "refresh",
        "/api/refresh",
        refreshBody(
          HttpClientRequest.post("/api/refresh"),
          new RefreshRequest({ refreshToken })
        ),
        (status) =>
          status >= 400 && status < 500 && status !== 408 && status !== 429
            ? Option.some(new RefreshTokenRejected({ status }))
            : Option.none()
      )

    return tag.of({ baseUrl: options.baseUrl, requestToken, refresh })
  })
