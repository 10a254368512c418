import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as CairAuth from "../CairAuth.js"
import type { CairAuthError } from "../CairAuthError.js"
import { tag as CairAuthTag } from "./cairAuth.js"
import { withoutRedirects } from "./noRedirects.js"
import { redactError, redactResponse } from "./redaction.js"
import * as TokenScope from "./tokenScope.js"

type ClientError = HttpClientError.HttpClientError | CairAuthError

/** Whether a body can be sent a second time: a stream is consumed by the first send. */
const isReplayable = (body: HttpBody.HttpBody): boolean => {
  switch (body._tag) {
    case "Stream":
      return false
    case "Raw":
      return !isStreamLike(body.body)
    default:
      return true
  }
}

const isStreamLike = (u: unknown): boolean =>
  typeof u === "object" && u !== null &&
  ((typeof ReadableStream !== "undefined" && u instanceof ReadableStream) || Symbol.asyncIterator in u ||
    typeof (u as { readonly pipe?: unknown }).pipe === "function")

/**
 * The two halves of a client that every combinator of the platform composes: `preprocess` (the request as
 * prepared once) and `postprocess` (one send, which `followRedirects` runs again for each hop). The public
 * interface does not name them; a client not built with `HttpClient.makeWith` gets the equivalent.
 */
interface Halves<E, R> {
  readonly preprocess: HttpClient.HttpClient.Preprocess<E, R>
  readonly postprocess: HttpClient.HttpClient.Postprocess<E, R>
}

const halves = <E, R>(client: HttpClient.HttpClient.With<E, R>): Halves<E, R> => {
  const parts = client as unknown as Partial<Halves<E, R>>
  return typeof parts.preprocess === "function" && typeof parts.postprocess === "function"
    ? { preprocess: parts.preprocess, postprocess: parts.postprocess }
    : { preprocess: Effect.succeed, postprocess: (request) => Effect.flatMap(request, client.execute) }
}

const withoutAuthorization = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  request.headers["authorization"] === undefined ?
    request :
    HttpClientRequest.modify(HttpClientRequest.get(request.url), {
      method: request.method,
      urlParams: request.urlParams,
      hash: Option.getOrUndefined(request.hash),
      headers: Headers.remove(request.headers, "authorization"),
      body: request.body
    })

/** @internal */
export const make = Effect.gen(function*() {
  const auth = yield* CairAuthTag
  const inner = halves(yield* HttpClient.HttpClient)
  const scope = TokenScope.unsafeMake(auth.baseUrl)

  /** The request's URL under the base URL, or a `RequestError` naming the rule it breaks: nothing is sent. */
  const resolve = (request: HttpClientRequest.HttpClientRequest) =>
    Either.match(scope.resolve(request.url), {
      onLeft: (error) =>
        Effect.fail(
          new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: error, description: error.message })
        ),
      onRight: (url) => Effect.succeed(HttpClientRequest.setUrl(request, url.href))
    })

  /** One send, never following a redirect below this client, with errors that hold no token. */
  const send = (request: HttpClientRequest.HttpClientRequest, token: CairAuth.AccessToken | undefined) =>
    withoutRedirects(
      inner.postprocess(
        Effect.succeed(
          token === undefined
            ? withoutAuthorization(request)
            : HttpClientRequest.bearerToken(request, token.token)
        )
      )
    ).pipe(
      Effect.mapError((error) => redactError(error, token === undefined ? undefined : Redacted.value(token.token)))
    )

  /**
   * One hop: the request as prepared, or as `followRedirects` re-sends it to a redirect's target. The token is
   * attached here, for each hop, and only if the hop's URL is under the base URL: a redirect elsewhere goes
   * without it.
   */
  const hop = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, ClientError> =>
    Effect.gen(function*() {
      if (!scope.allows(request.url)) return yield* send(request, undefined)
      const token = yield* auth.get
      const response = yield* send(request, token)
      if (response.status !== 401) return response
      // Every 401 invalidates exactly the token it carried; the core says whether a new token may be tried.
      const retry = yield* auth.rejected(token)
      if (!retry) return response
      if (!isReplayable(request.body)) {
        yield* Effect.logDebug(
          `Cair API answered 401 to a request with token generation ${token.generation}; ` +
            "its body is a stream and cannot be sent again, returning the 401"
        )
        return response
      }
      yield* Effect.logDebug(
        `Cair API answered 401 to a request with token generation ${token.generation}; retrying once with a new token`
      )
      const next = yield* auth.get
      // The HTTP client's span of the re-send says it is one (OpenTelemetry's HTTP client conventions, as the
      // token endpoint's attempts do); `annotateSpans` reaches the span the platform makes inside `send`.
      const again = yield* Effect.annotateSpans(send(request, next), "http.request.resend_count", 1)
      if (again.status === 401) yield* auth.rejected(next)
      return again
    }).pipe(Effect.map(redactResponse))

  return HttpClient.makeWith(
    (request: Effect.Effect<HttpClientRequest.HttpClientRequest, ClientError>) => Effect.flatMap(request, hop),
    (request) => Effect.flatMap(inner.preprocess(request), resolve)
  )
})
