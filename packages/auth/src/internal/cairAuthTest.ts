import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as CairAuth from "../CairAuth.js"
import { type CairAuthError, isCairAuthError } from "../CairAuthError.js"
import type * as CairAuthTest from "../CairAuthTest.js"
import { TokenEvent } from "../TokenEvent.js"
import { BearerToken, TokenSet } from "../TokenSet.js"
import { tag } from "./cairAuth.js"
import { parseBaseUrl } from "./options.js"

const isBearerToken = Schema.is(BearerToken)

const lifetimeMs = 3_600_000
const refreshLifetimeMs = 86_400_000

interface State {
  /** The index of the next step; past the end, the last step repeats. */
  readonly next: number
  readonly generation: number
  readonly current: CairAuth.AccessToken | undefined
  readonly issued: ReadonlyArray<CairAuth.AccessToken>
  readonly calls: Chunk.Chunk<CairAuthTest.Call>
}

const toAccessToken = (token: Redacted.Redacted<string>, generation: number, now: number): CairAuth.AccessToken => ({
  token,
  generation,
  expiresAt: now + lifetimeMs,
  usableUntil: now + lifetimeMs,
  refreshAt: now + lifetimeMs,
  tokenSet: TokenSet.make({
    accessToken: token,
    refreshToken: Redacted.make(`cair-auth-test-refresh-token-${generation}`),
    expiresAt: new Date(now + lifetimeMs),
    refreshTokenExpiresAt: new Date(now + refreshLifetimeMs)
  })
})

/** The latest generation handed out with this token value, as the real service compares a bare token by value. */
const generationOf = (issued: ReadonlyArray<CairAuth.AccessToken>, token: Redacted.Redacted<string>) => {
  for (let i = issued.length - 1; i >= 0; i--) {
    const { generation, token: handedOut } = issued[i]
    if (handedOut === token || Redacted.value(handedOut) === Redacted.value(token)) return generation
  }
  return undefined
}

/** @internal */
export const make = (steps: NonEmptyReadonlyArray<CairAuthTest.Step>, options: CairAuthTest.Options = {}) =>
  Effect.gen(function*() {
    const baseUrl = yield* Effect.orDie(parseBaseUrl(options.baseUrl ?? "https://cair.test"))
    const script = steps.map((step) => isCairAuthError(step) || Redacted.isRedacted(step) ? step : Redacted.make(step))
    for (const step of script) {
      if (!isCairAuthError(step) && Redacted.value(step) === "") {
        return yield* Effect.dieMessage("CairAuthTest: a token must not be empty")
      }
      if (!isCairAuthError(step) && !isBearerToken(Redacted.value(step))) {
        return yield* Effect.dieMessage(
          "CairAuthTest: a token must be a bearer token (RFC 6750 b64token: letters, digits, -._~+/ then any =)"
        )
      }
    }
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<TokenEvent>(), PubSub.shutdown)
    const publish = (event: TokenEvent) => Effect.asVoid(PubSub.publish(pubsub, event))
    const state = yield* Ref.make<State>({
      next: 0,
      generation: 0,
      current: undefined,
      issued: [],
      calls: Chunk.empty()
    })
    const recorded = (s: State, call: CairAuthTest.Call): State => ({ ...s, calls: Chunk.append(s.calls, call) })

    /** Hands out the current token (unless `fresh`), or takes the next step. */
    const take = (method: CairAuthTest.Call["method"], fresh: boolean) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          Effect.flatten(Ref.modify(state, (s): [Effect.Effect<CairAuth.AccessToken, CairAuthError>, State] => {
            if (!fresh && s.current !== undefined) {
              return [Effect.succeed(s.current), recorded(s, { method, generation: s.current.generation })]
            }
            const step = script[Math.min(s.next, script.length - 1)]
            if (isCairAuthError(step)) {
              return [
                Effect.zipRight(
                  publish(TokenEvent.Failed({ error: step, background: false, retryAt: new Date(now) })),
                  Effect.fail(step)
                ),
                recorded({ ...s, next: s.next + 1 }, { method, generation: undefined })
              ]
            }
            const generation = s.generation + 1
            const token = toAccessToken(step, generation, now)
            const acquired = TokenEvent.Acquired({
              source: generation === 1 ? "credentials" : "refresh",
              generation,
              expiresAt: new Date(token.expiresAt)
            })
            return [
              Effect.as(publish(acquired), token),
              recorded(
                { ...s, next: s.next + 1, generation, current: token, issued: [...s.issued, token] },
                { method, generation }
              )
            ]
          }))
      )

    const invalidateGeneration = (
      method: "invalidate" | "invalidateToken" | "rejected",
      named: (s: State) => number | undefined
    ) =>
      Effect.flatten(Ref.modify(state, (s): [Effect.Effect<void>, State] => {
        const generation = named(s)
        const next = recorded(s, { method, generation })
        if (s.current === undefined || s.current.generation !== generation) {
          return [Effect.void, next]
        }
        return [publish(TokenEvent.Invalidated({ generation })), { ...next, current: undefined }]
      }))

    const auth = tag.of({
      baseUrl,
      get: take("get", false),
      accessToken: Effect.map(take("accessToken", false), (token) => token.token),
      tokenSet: Effect.map(take("tokenSet", false), (token) => token.tokenSet),
      refresh: take("refresh", true),
      invalidate: invalidateGeneration("invalidate", (s) => s.current?.generation),
      invalidateToken: (target) =>
        invalidateGeneration(
          "invalidateToken",
          (s) => Redacted.isRedacted(target) ? generationOf(s.issued, target) : target.generation
        ),
      // The double never rests: every rejection allows a retry with the next token of the script.
      rejected: (target) =>
        Effect.as(
          invalidateGeneration(
            "rejected",
            (s) => Redacted.isRedacted(target) ? generationOf(s.issued, target) : target.generation
          ),
          true
        ),
      events: Stream.fromPubSub(pubsub)
    })
    const calls: Effect.Effect<ReadonlyArray<CairAuthTest.Call>> = Effect.map(
      Ref.get(state),
      (s) => Chunk.toReadonlyArray(s.calls)
    )
    return { auth, calls } as const
  })
