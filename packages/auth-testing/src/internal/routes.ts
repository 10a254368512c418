import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Credentials } from "../FakeCairServer.js"
import type { Tokens } from "./tokens.js"

/** @internal */
export const RefreshRequest = Schema.Struct({ refreshToken: Schema.String })

const TokenRequest = Schema.Struct({ clientId: Schema.String, clientSecret: Schema.String })

const EligibilityRequest = Schema.Struct({ memberId: Schema.String })

/** @internal */
export const message = (status: number, message: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson({ message }, { status, headers })

const invalidBody = (error: HttpServerError.RequestError | ParseResult.ParseError) =>
  Effect.succeed(message(400, `Invalid request body: ${error.message}`))

const bearerToken = (authorization: string | undefined) =>
  Option.fromNullable(authorization?.match(/^Bearer (.+)$/i)?.[1])

/** The three endpoints of the fake Cair API. @internal */
export const make = (tokens: Tokens, credentials: Credentials) =>
  HttpRouter.empty.pipe(
    HttpRouter.post(
      "/api/token",
      Effect.gen(function*() {
        const body = yield* HttpServerRequest.schemaBodyJson(TokenRequest)
        if (body.clientId !== credentials.clientId || body.clientSecret !== credentials.clientSecret) {
          return message(401, "Invalid credentials")
        }
        return HttpServerResponse.unsafeJson(yield* tokens.issue)
      }).pipe(Effect.catchTags({ RequestError: invalidBody, ParseError: invalidBody }))
    ),
    HttpRouter.post(
      "/api/refresh",
      Effect.gen(function*() {
        const body = yield* HttpServerRequest.schemaBodyJson(RefreshRequest)
        return Option.match(yield* tokens.rotate(body.refreshToken), {
          onNone: () => message(401, "Invalid, used or expired refresh token"),
          onSome: (tokenSet) => HttpServerResponse.unsafeJson(tokenSet)
        })
      }).pipe(Effect.catchTags({ RequestError: invalidBody, ParseError: invalidBody }))
    ),
    HttpRouter.post(
      "/api/eligibility/v1",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const token = bearerToken(request.headers.authorization)
        if (Option.isNone(token) || !(yield* tokens.isValid(token.value))) {
          return message(401, "Missing, invalid or expired access token", { "www-authenticate": "Bearer" })
        }
        const body = yield* Effect.option(HttpServerRequest.schemaBodyJson(EligibilityRequest))
        return HttpServerResponse.unsafeJson({
          eligible: true,
          memberId: Option.getOrNull(Option.map(body, (body) => body.memberId))
        })
      })
    )
  )
