/**
 * Never an untyped failure: whatever a server sends (any status, any `Date` and `Retry-After`, any body, at any
 * time or never), every caller of `CairAuth` gets a token or a `CairAuthError`: no defect (an untyped
 * `RangeError` from a date, say), no interruption, no hang. Property-based over generated answers, from a fixed
 * seed and a bounded count, time on the `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as CairAuth from "../src/CairAuth.js"
import { InvalidCredentials, MalformedTokenResponse, TokenRequestFailed } from "../src/CairAuthError.js"
import { maxWaitMs } from "../src/internal/bounds.js"
import type { Reply } from "./fixtures.js"
import { credentials, scriptedHttp, secrets } from "./fixtures.js"

const numRuns = Number(process.env.NEVER_UNTYPED_RUNS ?? 60)
const seed = Number(process.env.NEVER_UNTYPED_SEED ?? 20_261_010)

const printable = (maxLength: number) => FastCheck.stringMatching(new RegExp(`^[ -~]{0,${maxLength}}$`))
/** Any instant a `Date` can hold, and the instants around now that matter most. */
const instant = (now: number) =>
  FastCheck.oneof(
    FastCheck.integer({ min: -8.64e15, max: 8.64e15 }),
    FastCheck.integer({ min: -86_400_000, max: 86_400_000 }).map((offset) => now + offset),
    FastCheck.constantFrom(0, Date.UTC(3000, 0, 1), -62_198_755_200_000)
  )

/** A body: a token set with any dates (well or badly written), JSON of any shape, or no JSON at all. */
const body = (now: number) =>
  FastCheck.oneof(
    FastCheck.record({
      accessToken: FastCheck.oneof(
        FastCheck.constant(secrets.accessToken(1)),
        FastCheck.constant(""),
        FastCheck.integer()
      ),
      refreshToken: FastCheck.oneof(FastCheck.constant(secrets.refreshToken(1)), FastCheck.constant(null)),
      expiresAt: dateText(now),
      refreshTokenExpiresAt: dateText(now)
    }).map((value) => JSON.stringify(value)),
    FastCheck.json(),
    printable(60)
  )

const dateText = (now: number) =>
  FastCheck.oneof(
    instant(now).map((ms) => {
      const date = new Date(ms)
      return Number.isNaN(date.getTime()) ? "invalid" : date.toISOString()
    }),
    instant(now).map((ms) => new Date(ms).toISOString().replace("Z", "+05:30")),
    instant(now).map((ms) => new Date(ms).toISOString().slice(0, 19)),
    FastCheck.constantFrom("5", "2025-02-30T00:00:00Z", "", "next tuesday"),
    FastCheck.integer()
  )

/** One answer: status, headers, body, and when it comes (or that it never does, or the connection drops). */
interface Answer {
  readonly status: number
  readonly date: string | null
  readonly retryAfter: string | null
  readonly body: string
  readonly timing: "now" | number | "hang" | "network-error"
}

const answer = (now: number): FastCheck.Arbitrary<Answer> =>
  FastCheck.record({
    status: FastCheck.oneof(
      FastCheck.constantFrom(200, 200, 200, 201, 204, 400, 401, 403, 404, 408, 429, 500, 502, 503),
      FastCheck.integer({ min: 200, max: 599 })
    ),
    date: FastCheck.option(
      FastCheck.oneof(instant(now).map((ms) => new Date(ms).toUTCString()), printable(30), FastCheck.constant("0"))
    ),
    retryAfter: FastCheck.option(
      FastCheck.oneof(
        FastCheck.nat().map(String),
        FastCheck.constantFrom("9000000000000", "9".repeat(400), "-5", "1.5", "Infinity"),
        instant(now).map((ms) => new Date(ms).toUTCString()),
        printable(20)
      )
    ),
    body: body(now),
    timing: FastCheck.oneof(
      FastCheck.constant<"now">("now"),
      FastCheck.integer({ min: 1, max: 20_000 }),
      FastCheck.constantFrom<"hang" | "network-error">("hang", "network-error")
    )
  })

type Step =
  | { readonly _tag: "Call"; readonly method: "get" | "accessToken" | "tokenSet" | "refresh" }
  | { readonly _tag: "Wait"; readonly ms: number }
  | { readonly _tag: "Invalidate" }

const step: FastCheck.Arbitrary<Step> = FastCheck.oneof(
  FastCheck.record({
    _tag: FastCheck.constant("Call" as const),
    method: FastCheck.constantFrom("get" as const, "accessToken" as const, "tokenSet" as const, "refresh" as const)
  }),
  FastCheck.record({
    _tag: FastCheck.constant("Wait" as const),
    ms: FastCheck.oneof(FastCheck.integer({ min: 0, max: 2_000 }), FastCheck.integer({ min: 0, max: 4_000_000 }))
  }),
  FastCheck.constant({ _tag: "Invalidate" as const })
)

const start = Date.UTC(2026, 0, 1)

const scenario = FastCheck.record({
  answers: FastCheck.array(answer(start), { minLength: 1, maxLength: 8 }),
  steps: FastCheck.array(step, { minLength: 1, maxLength: 10 }),
  maxRetries: FastCheck.integer({ min: 0, max: 3 }),
  requestTimeoutMs: FastCheck.constantFrom(500, 10_000)
})

const nullBody = new Set([204, 205, 304])

const reply = (a: Answer): Reply => {
  if (a.timing === "hang" || a.timing === "network-error") return a.timing
  const headers = new Headers({ "content-type": "application/json" })
  if (a.date !== null) headers.set("date", a.date)
  if (a.retryAfter !== null) headers.set("retry-after", a.retryAfter)
  return new Response(nullBody.has(a.status) ? null : a.body, { status: a.status, headers })
}

const typed = (error: unknown) =>
  error instanceof TokenRequestFailed || error instanceof MalformedTokenResponse || error instanceof InvalidCredentials

describe("never an untyped failure (property-based)", () => {
  it.effect.prop(
    "every caller gets a token or a CairAuthError, whatever the server answers",
    [scenario],
    ([{ answers, maxRetries, requestTimeoutMs, steps }]) =>
      Effect.scoped(Effect.gen(function*() {
        yield* TestClock.setTime(start)
        const http = yield* scriptedHttp((_, index) => {
          const a = answers[index % answers.length]!
          const r = reply(a)
          return typeof a.timing === "number" ? Effect.as(Effect.sleep(a.timing), r) : Effect.succeed(r)
        })
        const options = { maxRetries, requestTimeoutMs }
        const context = yield* Layer.build(
          CairAuth.layer({
            ...credentials,
            baseUrl: "https://cair.test",
            retrySchedule: Schedule.exponential("100 millis"),
            ...options
          }).pipe(Layer.provide(http.layer))
        )
        const auth = Context.get(context, CairAuth.CairAuth)
        const callers: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
        for (const s of steps) {
          if (s._tag === "Call") callers.push(yield* Effect.fork(auth[s.method] as Effect.Effect<unknown, unknown>))
          else if (s._tag === "Wait") yield* TestClock.adjust(s.ms)
          else yield* auth.invalidate
        }
        // Time runs on, within the documented bound, until every caller has settled.
        const bound = maxWaitMs(options)
        for (let i = 0; i < 4 && callers.some((fiber) => fiber.unsafePoll() === null); i++) {
          yield* TestClock.adjust(bound)
        }
        for (const fiber of callers) {
          const exit = fiber.unsafePoll()
          if (exit === null) return expect.fail("a caller never settled")
          if (Exit.isFailure(exit)) {
            const failure = Cause.failureOption(exit.cause)
            expect(Cause.isDie(exit.cause) || Cause.isInterrupted(exit.cause), Cause.pretty(exit.cause)).toBe(false)
            expect(Option.isSome(failure) && typed(failure.value), Cause.pretty(exit.cause)).toBe(true)
          }
        }
      })),
    { timeout: 120_000, fastCheck: { numRuns, seed } }
  )
})
