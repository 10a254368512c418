import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { RequestLogEntry } from "../FakeCairServer.js"
import * as FaultOutcome from "./faultOutcome.js"
import type { Faults } from "./faults.js"
import type { RequestLog } from "./requestLog.js"
import { message, RefreshRequest } from "./routes.js"

const refreshTokenIn = (body: string) =>
  Option.getOrUndefined(
    Option.map(Schema.decodeUnknownOption(Schema.parseJson(RefreshRequest))(body), (body) => body.refreshToken)
  )

/**
 * Wraps the routes: logs every request, applies the next matching fault and sets the `Date` header from the
 * server's clock. Interruptible, so that a closed connection ends a delayed or hung request.
 *
 * @internal
 */
export const make = (options: {
  readonly routes: HttpApp.Default<HttpServerError.RouteNotFound>
  readonly faults: Faults
  readonly log: RequestLog
  readonly now: Effect.Effect<Date>
}): HttpApp.Default =>
  Effect.interruptible(Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const time = yield* options.now
    const path = new URL(request.url, "http://127.0.0.1").pathname
    const body = yield* Effect.orElseSucceed(request.text, () => "")
    const fault = yield* options.faults.take(path)
    const entry: RequestLogEntry = {
      method: request.method,
      path,
      time,
      status: undefined,
      fault: Option.getOrUndefined(fault),
      authorization: request.headers.authorization !== undefined,
      headers: Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== "authorization")),
      refreshToken: path === "/api/refresh" ? refreshTokenIn(body) : undefined
    }
    yield* options.log.append(entry)

    const normal = Effect.catchTag(options.routes, "RouteNotFound", () => Effect.succeed(message(404, "Not found")))
    const outcome = Option.isSome(fault)
      ? yield* FaultOutcome.make(fault.value, { normal, arrival: time, now: options.now })
      : FaultOutcome.respond(yield* normal)
    const status = outcome._tag === "Respond" ? outcome.response.status : outcome.status
    if (status !== undefined) {
      yield* options.log.complete(entry, status)
    }
    const date = Option.isSome(fault) && fault.value._tag === "DateHeader"
      ? fault.value.date
      : (yield* options.now).toUTCString()
    return outcome._tag === "Respond"
      ? HttpServerResponse.setHeader(outcome.response, "date", date)
      : yield* outcome.takeOver(date)
  }))
