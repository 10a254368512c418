import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Stream from "effect/Stream"
import { redacted, scrubCause, scrubMessage } from "./scrub.js"

/** @internal */
export const redactRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  request.headers["authorization"] === undefined
    ? request
    : HttpClientRequest.setHeader(request, "authorization", redacted)

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

/** @internal */
export const redactResponse = (
  response: HttpClientResponse.HttpClientResponse
): HttpClientResponse.HttpClientResponse =>
  response instanceof RedactedResponse ? response : new RedactedResponse(response, redactRequest(response.request))

const redactResponseError = (
  error: HttpClientError.ResponseError,
  response: RedactedResponse
): HttpClientError.ResponseError =>
  new HttpClientError.ResponseError({
    request: response.request,
    response,
    reason: error.reason,
    ...(error.cause === undefined ? {} : { cause: scrubCause(error.cause, []) }),
    ...(error.description === undefined ? {} : { description: scrubMessage(error.description, []) })
  })

/**
 * An error of the client without the token: in its request, its response, and in the messages of its `cause`
 * (fetch's `TypeError` for an invalid header value prints the value).
 *
 * @internal
 */
export const redactError = <E>(error: E, token: string | undefined): E => {
  if (!HttpClientError.isHttpClientError(error)) return error
  if (error._tag === "ResponseError") {
    const response = redactResponse(error.response) as RedactedResponse
    return redactResponseError(error, response) as E
  }
  const values = token === undefined ? [] : [token]
  return new HttpClientError.RequestError({
    request: redactRequest(error.request),
    reason: error.reason,
    ...(error.cause === undefined ? {} : { cause: scrubCause(error.cause, values) }),
    ...(error.description === undefined ? {} : { description: scrubMessage(error.description, values) })
  }) as E
}
