import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Net from "node:net"
import type { Fault } from "../FakeCairServer.js"
import { issueExpired } from "./tokens.js"

/**
 * What a request gets: a response, or a fault that takes over its connection and never returns (the
 * connection closing interrupts it).
 *
 * @internal
 */
export type Outcome =
  | { readonly _tag: "Respond"; readonly response: HttpServerResponse.HttpServerResponse }
  | {
    readonly _tag: "TakeOver"
    readonly status: number | undefined
    readonly takeOver: (date: string) => Effect.Effect<never, never, HttpServerRequest.HttpServerRequest>
  }

/** @internal */
export const respond = (response: HttpServerResponse.HttpServerResponse): Outcome => ({ _tag: "Respond", response })

const takeOver = (status: number | undefined, f: (socket: Net.Socket, date: string) => void): Outcome => ({
  _tag: "TakeOver",
  status,
  takeOver: (date) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.zipRight(
        Effect.sync(() => f(NodeHttpServerRequest.toIncomingMessage(request).socket, date)),
        Effect.never
      ))
})

const truncatedBody = JSON.stringify({
  accessToken: "fake-at-truncated",
  refreshToken: "fake-rt-truncated",
  expiresAt: "2099-01-01T00:00:00.000Z",
  refreshTokenExpiresAt: "2099-01-02T00:00:00.000Z"
})

const writeTruncated = (socket: Net.Socket, date: string) => {
  const head = [
    "HTTP/1.1 200 OK",
    "Content-Type: application/json",
    `Content-Length: ${truncatedBody.length}`,
    `Date: ${date}`,
    "",
    ""
  ].join("\r\n")
  socket.write(head + truncatedBody.slice(0, truncatedBody.length / 2), () => socket.destroy())
}

/** @internal */
export const make = <E, R>(fault: Fault, options: {
  readonly normal: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
  /** When the request arrived and the current time, on the server's clock. */
  readonly arrival: Date
  readonly now: Effect.Effect<Date>
}): Effect.Effect<Outcome, E, R> => {
  const { normal } = options
  switch (fault._tag) {
    case "Status":
      return Effect.succeed(respond(HttpServerResponse.text(
        fault.body ?? JSON.stringify({ message: `Injected status ${fault.status}` }),
        {
          status: fault.status,
          contentType: fault.contentType ?? "application/json",
          headers: fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter }
        }
      )))
    case "Redirect":
      return Effect.succeed(
        respond(HttpServerResponse.empty({ status: fault.status, headers: { location: fault.location } }))
      )
    case "Malformed":
      return Effect.succeed(
        respond(HttpServerResponse.text(fault.body, { contentType: fault.contentType ?? "application/json" }))
      )
    case "HugeBody":
      return Effect.succeed(respond(
        HttpServerResponse.uint8Array(new Uint8Array(fault.bytes).fill(0x78), { contentType: "application/json" })
      ))
    case "Truncated":
      return Effect.succeed(takeOver(200, writeTruncated))
    case "Delay": {
      // Sleeps until a deadline rather than for a duration: a clock advanced before the sleep starts still counts.
      const deadline = options.arrival.getTime() + Duration.toMillis(fault.duration)
      const sleep = Effect.flatMap(options.now, (now) => Effect.sleep(Math.max(0, deadline - now.getTime())))
      return Effect.map(Effect.zipRight(sleep, normal), respond)
    }
    case "Hang":
      return Effect.succeed(takeOver(undefined, () => {}))
    case "Reset":
      return Effect.succeed(takeOver(undefined, (socket) => socket.resetAndDestroy()))
    case "ExpiredTokenSet":
      return Effect.map(Effect.locally(normal, issueExpired, true), respond)
    case "DateHeader":
      return Effect.map(normal, respond)
  }
}
