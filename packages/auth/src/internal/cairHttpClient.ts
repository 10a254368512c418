import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import type * as CairAuth from "../CairAuth.js"
import type { CairAuthError } from "../CairAuthError.js"
import { tag as CairAuthTag } from "./cairAuth.js"

type ClientError = HttpClientError.HttpClientError | CairAuthError

/**
 * The token one send of a request carried: set while the request is authorized, read when the
 * answer is a 401. One per `execute`, shared by the first send and the retry. Optional: a
 * combinator may run the request's preparation on its own (`followRedirects` does).
 */
class SentWith extends Context.Tag("@cair/auth/CairHttpClient/SentWith")<
  SentWith,
  Ref.Ref<CairAuth.AccessToken | undefined>
>() {}

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

const redactedAuthorization = "<redacted>"

const redactRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  request.headers["authorization"] === undefined
    ? request
    : HttpClientRequest.setHeader(request, "authorization", redactedAuthorization)

/**
 * A response whose `request` no longer holds the token, nor do the errors its body readers raise.
 * Errors built from a response downstream (`filterStatusOk`, `schemaBodyJson`) take its `request`:
 * without this, `JSON.stringify` or `util.inspect` of such an error outside an Effect logger would
 * print the bearer token.
 */
class RedactedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    readonly original: HttpClientResponse.HttpClientResponse,
    readonly request: HttpClientRequest.HttpClientRequest
  ) {
    super()
  }

  private body<A>(
    effect: Effect.Effect<A, HttpClientError.ResponseError>
  ): Effect.Effect<A, HttpClientError.ResponseError> {
    return Effect.mapError(effect, (error) => redactResponseError(error, this))
  }

  get status() {
    return this.original.status
  }
  get headers() {
    return this.original.headers
  }
  get cookies() {
    return this.original.cookies
  }
  get remoteAddress() {
    return this.original.remoteAddress
  }
  get formData() {
    return this.body(this.original.formData)
  }
  get text() {
    return this.body(this.original.text)
  }
  get json() {
    return this.body(this.original.json)
  }
  get urlParamsBody() {
    return this.body(this.original.urlParamsBody)
  }
  get arrayBuffer() {
    return this.body(this.original.arrayBuffer)
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.mapError(this.original.stream, (error) => redactResponseError(error, this))
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

const redactResponse = (response: HttpClientResponse.HttpClientResponse): RedactedResponse =>
  response instanceof RedactedResponse ? response : new RedactedResponse(response, redactRequest(response.request))

const redactResponseError = (
  error: HttpClientError.ResponseError,
  response: RedactedResponse
): HttpClientError.ResponseError =>
  new HttpClientError.ResponseError({
    request: response.request,
    response,
    reason: error.reason,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    ...(error.description === undefined ? {} : { description: error.description })
  })

const redactError = (error: ClientError): ClientError => {
  if (!HttpClientError.isHttpClientError(error)) return error
  if (error._tag === "ResponseError") return redactResponseError(error, redactResponse(error.response))
  return new HttpClientError.RequestError({
    request: redactRequest(error.request),
    reason: error.reason,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    ...(error.description === undefined ? {} : { description: error.description })
  })
}

/** @internal */
export const make = (baseUrl: string) =>
  Effect.gen(function*() {
    const auth = yield* CairAuthTag
    const client = yield* HttpClient.HttpClient

    const authorize = (request: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function*() {
        const token = yield* auth.get
        const sentWith = yield* Effect.serviceOption(SentWith)
        if (Option.isSome(sentWith)) yield* Ref.set(sentWith.value, token)
        return HttpClientRequest.bearerToken(request, token.token)
      })

    const retryOnce401 = (send: Effect.Effect<HttpClientResponse.HttpClientResponse, ClientError, SentWith>) =>
      Effect.gen(function*() {
        const sentWith = yield* Ref.make<CairAuth.AccessToken | undefined>(undefined)
        const attempt = Effect.provideService(send, SentWith, sentWith)
        const response = yield* attempt
        if (response.status !== 401) return response
        // Unknown when the request was authorized outside this client's response handling:
        // `followRedirects` on top of it does that. Such a request is not retried.
        const token = yield* Ref.get(sentWith)
        if (token === undefined) return response
        yield* auth.invalidateToken(token)
        if (!isReplayable(response.request.body)) {
          yield* Effect.logDebug(
            `Cair API answered 401 to a request with token generation ${token.generation}; ` +
              "its body is a stream and cannot be sent again, returning the 401"
          )
          return response
        }
        yield* Effect.logDebug(
          `Cair API answered 401 to a request with token generation ${token.generation}; retrying once with a new token`
        )
        return yield* attempt
      }).pipe(
        Effect.map(redactResponse),
        Effect.mapError(redactError)
      )

    // The base URL ends in "/" so that no request URL can change the host the token is sent to.
    return client.pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(`${baseUrl}/`)),
      HttpClient.mapRequestEffect(authorize),
      HttpClient.transformResponse(retryOnce401)
    )
  })
