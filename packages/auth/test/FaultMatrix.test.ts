/**
 * The fault matrix of `test/utils/faultCases.ts` over real HTTP: `CairAuth` on `NodeHttpClient` against the
 * fake Cair server on 127.0.0.1, time on the `TestClock` (the server's clock too), so retry delays, timeouts,
 * `Retry-After` and rests are asserted to the millisecond without waiting for them.
 *
 * Each case asserts: the outcome (token, or which typed error with which fields), the exact requests (paths and
 * times on the server's clock), the rest that follows a failure (no request, the same error), that the error
 * names its cause and that no log line, span, event, error or token view shows a secret, and that nothing is
 * left running (no fiber of the client after the outcome, no socket after the close).
 */
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import { readFileSync } from "node:fs"
import * as CairAuth from "../src/CairAuth.js"
import type { TokenEvent } from "../src/TokenEvent.js"
import { type FailedAttempt, type FaultCase, faultCases, type Phase } from "./utils/faultCases.js"
import { assertNoFibers, awaitExit, handles, makeCapture, wakeAt } from "./utils/harness.js"
import { credentials, leaks, renderings } from "./utils/secrets.js"

/** 2026-01-01T00:00:00Z: whole seconds, like the `Date` header. */
const start = Date.UTC(2026, 0, 1)
const maxRetries = 2
const attempts = 1 + maxRetries
/** The fake server's default access token lifetime. */
const ttlMs = 600_000

/**
 * When each request of the phase goes out (ms after its start) and the instants the client sleeps until
 * (a timeout, a retry delay), for the schedule `exponential(100 ms)`: delays 100, 200, … or the
 * `Retry-After`, whichever is longer.
 */
const timeline = (failed: ReadonlyArray<FailedAttempt>, requests: number, timeoutMs: number) => {
  const times: Array<number> = [0]
  const wakes: Array<{ readonly at: number; readonly requests: number }> = []
  failed.forEach((attempt, k) => {
    const answeredAt = times[k]! + (attempt.hang === true ? timeoutMs : 0)
    if (attempt.hang === true) wakes.push({ at: answeredAt, requests: k + 1 })
    if (k + 1 < requests) {
      const next = answeredAt + Math.max(100 * 2 ** k, attempt.retryAfterMs?.(answeredAt) ?? 0)
      times.push(next)
      wakes.push({ at: next, requests: k + 1 })
    }
  })
  while (times.length < requests) times.push(times[times.length - 1]!)
  return { times, wakes }
}

const runCase = (c: FaultCase, phase: Phase) =>
  Effect.gen(function*() {
    const open = handles({ timers: false })
    yield* TestClock.setTime(start)
    yield* Effect.scoped(Effect.gen(function*() {
      const offset = c.server?.clockOffsetMs ?? 0
      const server = yield* FakeCairServer.make({ credentials, clockOffsetMs: offset })
      const capture = yield* makeCapture
      const supervisor = yield* Supervisor.track
      const failed = c.failedAttempts?.(attempts) ?? []
      const timeoutMs = failed.some((attempt) => attempt.hang === true) ? 1_000 : 10_000
      const context = yield* Layer.build(
        CairAuth.layer({
          ...credentials,
          baseUrl: server.url,
          maxRetries,
          retrySchedule: Schedule.exponential("100 millis"),
          requestTimeoutMs: timeoutMs
        }).pipe(Layer.provide(NodeHttpClient.layer))
      )
      const auth = Context.get(context, CairAuth.CairAuth)
      const events: Array<TokenEvent> = []
      yield* Effect.forkScoped(Stream.runForEach(auth.events, (event) => Effect.sync(() => events.push(event))))
      yield* Effect.yieldNow()
      const call = Effect.supervised(capture.run(Effect.either(auth.get)), supervisor)

      let phaseStart = start
      if (phase === "refresh") {
        expect(Either.isRight(yield* call)).toBe(true)
        phaseStart = start + ttlMs // the token has expired: the next caller waits for the refresh
        yield* TestClock.setTime(phaseStart)
      }
      const before = yield* server.count()
      const serverNow = phaseStart + offset
      for (const { fault, path, times } of c.inject({ phase, serverNow, attempts })) {
        yield* server.inject(fault, { path, times })
      }
      const expectedPaths = c.requests(phase, attempts)
      const plan = timeline(failed, expectedPaths.length, timeoutMs)

      const fiber = yield* Effect.fork(call)
      for (const wake of plan.wakes) yield* wakeAt(phaseStart + wake.at, before + wake.requests, server.count())
      const exit = yield* awaitExit(fiber)
      if (!Exit.isSuccess(exit)) return expect.fail(`the caller did not get a token or a typed error: ${exit}`)
      const result = exit.value
      const now = yield* Clock.currentTimeMillis

      // The requests: which, and when on the server's clock.
      const log = (yield* server.requests).slice(before)
      expect(log.map((entry) => entry.path)).toEqual(expectedPaths)
      expect(log.map((entry) => entry.time.getTime() - serverNow)).toEqual(plan.times)

      // The outcome.
      const outcome = c.outcome(phase)
      const outputs: Array<readonly [string, string]> = []
      if (outcome._tag === "Token") {
        if (Either.isLeft(result)) return expect.fail(`expected a token, got ${result.left.message}`)
        const token = result.right
        expect(Redacted.value(token.token)).toMatch(/^fake-at-/)
        const acquired = events.filter((event) => event._tag === "Acquired")
        expect(acquired.at(-1)).toMatchObject({ source: outcome.source, generation: token.generation })
        if (outcome.source === "credentials" && phase === "refresh") {
          expect(events.filter((event) => event._tag === "FellBack")).toMatchObject([{
            reason: "RefreshTokenRejected"
          }])
        }
        if (outcome.warns !== undefined) {
          const pattern = outcome.warns
          expect(capture.lines.filter((line) => line.startsWith("WARN") && pattern.test(line))).toHaveLength(1)
        }
        expect(capture.lines.some((line) => line.includes("expired on arrival"))).toBe(false)
        if (outcome.fixedExpiry !== true) {
          // Deadlines on the local clock: the server's Date corrects a skew, at most 1 s early.
          expect(token.expiresAt).toBeLessThanOrEqual(now + ttlMs)
          expect(token.expiresAt).toBeGreaterThanOrEqual(now + ttlMs - 1_000)
          expect(token.usableUntil).toBe(token.expiresAt - 5_000)
          expect(token.refreshAt).toBe(token.expiresAt - 60_000)
        }
        expect(Either.isRight(yield* call)).toBe(true)
        expect(yield* server.count()).toBe(before + expectedPaths.length)
        outputs.push(
          ...renderings(token).map((text) => ["token view", text] as const),
          ...renderings(auth).map((text) => ["service", text] as const)
        )
      } else {
        if (Either.isRight(result)) return expect.fail(`expected ${outcome._tag}, got a token`)
        const error = result.left
        expect(error._tag).toBe(outcome._tag)
        switch (outcome._tag) {
          case "TokenRequestFailed": {
            expect(error).toMatchObject({ reason: outcome.reason, endpoint: server.url + expectedPaths[0] })
            if (error._tag !== "TokenRequestFailed") break
            expect(error.status).toBe(outcome.status)
            expect(error.retryAfterMs !== undefined).toBe(outcome.retryAfter === true)
            expect(error.isTransient).toBe(true)
            expect(error.message).toMatch(outcome.cause)
            break
          }
          case "MalformedTokenResponse":
            expect(error).toMatchObject({ status: 200, problems: outcome.problems })
            expect(error.message).toContain(outcome.problems.join("; "))
            break
          case "InvalidCredentials":
            expect(error).toMatchObject({ status: outcome.status, clientId: credentials.clientId })
            expect(error.message).toContain("CAIR_CLIENT_SECRET")
            break
        }
        // The rest: no new cycle before it ends, at least any Retry-After up to 5 minutes; callers get the same
        // error at once.
        const retryAfterMs = error._tag === "TokenRequestFailed" ? error.retryAfterMs ?? 0 : 0
        const rest = Math.max(Math.min(retryAfterMs, 300_000), 1_000)
        const failedEvents = events.filter((event) => event._tag === "Failed")
        // (Plain fields only: a diff of an event holding an error with its span would not print.)
        expect(failedEvents.map((event) => [event.background, event.retryAt.getTime() - now])).toEqual([[false, rest]])
        const again = yield* call
        expect(Either.isLeft(again) && again.left).toBe(error)
        expect(yield* server.count()).toBe(before + expectedPaths.length)
        if (outcome._tag === "TokenRequestFailed" && outcome.warns !== undefined) {
          const pattern = outcome.warns
          expect(capture.lines.filter((line) => line.startsWith("WARN") && pattern.test(line))).toHaveLength(1)
        }
        if (outcome._tag === "TokenRequestFailed" && outcome.next !== undefined) {
          // After the rest the next caller starts the next cycle, and gets a token of the next generation.
          yield* TestClock.adjust(rest)
          const next = yield* call
          expect(Either.isRight(next) && next.right.generation).toBe(phase === "cold" ? 2 : 3)
          expect((yield* server.requests).slice(before + expectedPaths.length).map((entry) => entry.path))
            .toEqual(outcome.next)
        }
        outputs.push(...renderings(error).map((text) => ["error", text] as const))
      }

      // Nothing of the client is left running once the caller has its outcome.
      yield* assertNoFibers(supervisor)
      // No secret anywhere: log lines (every level), spans, events, the error or token view.
      outputs.push(
        ...capture.outputs(),
        ...events.flatMap((event) => renderings(event).map((text) => ["event", text] as const))
      )
      expect(capture.lines.length).toBeGreaterThan(0)
      expect(leaks(outputs, [credentials.clientSecret])).toEqual([])
    }))
    // Closing the client and the server leaves no socket or server handle behind.
    yield* open.settled
  })

describe("fault matrix over real HTTP: CairAuth (Effect API)", () => {
  it("RELIABILITY.md has a row for every case, in order, and no other", () => {
    const text = readFileSync(new URL("../../../RELIABILITY.md", import.meta.url), "utf8")
    const table = text.slice(text.indexOf("<!-- fault-matrix:start -->"), text.indexOf("<!-- fault-matrix:end -->"))
    const rows = table.split("\n").filter((line) => line.startsWith("| ") && !/^\| (case|---) /.test(line))
    expect(rows.map((row) => row.split(" | ")[0]!.slice(2))).toEqual(faultCases.map((c) => c.name))
  })

  for (const c of faultCases) {
    for (const phase of c.phases) {
      it.effect(`${phase}: ${c.name}`, () => runCase(c, phase))
    }
  }
})
