/**
 * Prints the demo's timeline: each line with the time since the start, token events as they happen.
 */
import type { TokenEvent } from "@cair/auth"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export class Timeline extends Context.Tag("@cair/example-demo/Timeline")<Timeline, {
  readonly step: (title: string) => Effect.Effect<void>
  readonly note: (text: string) => Effect.Effect<void>
  readonly event: (event: TokenEvent.TokenEvent) => Effect.Effect<void>
}>() {}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

const describe = (event: TokenEvent.TokenEvent, now: number): string => {
  switch (event._tag) {
    case "Acquired":
      return `token generation ${event.generation} acquired via ${event.source}, ` +
        `valid for ${seconds(event.expiresAt.getTime() - now)}`
    case "FellBack":
      return `refresh token ${event.reason === "RefreshTokenExpired" ? "expired" : "rejected"}: ` +
        "falling back to the client credentials"
    case "Failed":
      return `token request failed${event.background ? " in the background" : ""}: ${event.error.message}`
    case "Invalidated":
      return `token generation ${event.generation} invalidated`
  }
}

export const layer = Layer.effect(
  Timeline,
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const line = (marker: string, text: string) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => Console.log(`${`+${((now - start) / 1000).toFixed(3)}s`.padStart(9)}  ${marker} ${text}`)
      )
    return {
      step: (title) => Effect.zipRight(Console.log(""), line("==", title)),
      note: (text) => line("  ", text),
      event: (event) => Effect.flatMap(Clock.currentTimeMillis, (now) => line(" *", describe(event, now)))
    }
  })
)
