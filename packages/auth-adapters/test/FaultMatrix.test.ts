/**
 * The fault matrix of `packages/auth/test/utils/faultCases.ts` through the Promise adapter: real HTTP with the
 * global `fetch` against the fake Cair server on 127.0.0.1, in real time (one retry; 2 s timeouts where the
 * server never answers, long enough for an answer to arrive on a busy machine). Cases run five at a time, each
 * with its own server and client.
 *
 * The `refresh` phase invalidates the first token, so the next call refreshes in the foreground. Each case
 * asserts the outcome (a token, or the typed error as an `Error` subclass with its fields and cause), the exact
 * requests, and that no error, event or client rendering shows a secret; every console line the clients print (at
 * debug level) is scanned too. Once every client is closed and every server stopped, no socket or timer is left.
 *
 * The TestClock suite (`packages/auth/test/FaultMatrix.test.ts`) asserts the timings and rests; here nothing
 * depends on how long anything takes.
 */
import { FakeCairServer } from "@cair/auth-testing"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { type FaultCase, faultCases, type Phase } from "../../auth/test/utils/faultCases.js"
import { handles } from "../../auth/test/utils/harness.js"
import { credentials, leaks, renderings } from "../../auth/test/utils/secrets.js"
import {
  createCairAuthClient,
  InvalidCredentials,
  MalformedTokenResponse,
  type TokenEvent,
  TokenRequestFailed
} from "../src/index.js"

const maxRetries = 1
const attempts = 1 + maxRetries

const errorClasses = { TokenRequestFailed, MalformedTokenResponse, InvalidCredentials } as const

/** Every console line the clients print (their debug log), kept out of the test output and scanned. */
const printed: Array<string> = []
let open: ReturnType<typeof handles>
beforeAll(() => {
  open = handles()
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) => {
      printed.push(args.map(String).join(" "))
    })
  }
})
afterAll(async () => {
  vi.restoreAllMocks()
  expect(printed.some((line) => line.includes("expired on arrival"))).toBe(true)
  expect(leaks(printed.map((line, i) => [`console line ${i}`, line] as const), [credentials.clientSecret])).toEqual([])
  // Every client closed and every server stopped: nothing left, no socket, no server, no ref'd timer.
  await open.settledPromise()
})

const runCase = async (c: FaultCase, phase: Phase) => {
  const offset = c.server?.clockOffsetMs ?? 0
  const server = await FakeCairServer.start({ credentials, clockOffsetMs: offset })
  const events: Array<TokenEvent> = []
  const client = createCairAuthClient({
    ...credentials,
    baseUrl: server.url,
    maxRetries,
    requestTimeoutMs: c.failedAttempts?.(attempts).some((attempt) => attempt.hang === true) ? 2_000 : 30_000,
    logLevel: "Debug",
    onEvent: (event) => events.push(event)
  })
  const tokens: Array<string> = []
  try {
    if (phase === "refresh") {
      tokens.push(await client.getAccessToken())
      await client.invalidate()
    }
    const before = server.count()
    for (const { fault, path, times } of c.inject({ phase, serverNow: Date.now() + offset, attempts })) {
      server.inject(fault, { path, times })
    }
    const result = await client.getAccessToken().then(
      (token) => ({ ok: true as const, token }),
      (error: unknown) => ({ ok: false as const, error })
    )
    const expectedPaths = c.requests(phase, attempts)
    expect(server.requests().slice(before).map((entry) => entry.path)).toEqual(expectedPaths)

    const outcome = c.outcome(phase)
    const outputs: Array<readonly [string, string]> = []
    if (outcome._tag === "Token") {
      if (!result.ok) return expect.fail(`expected a token, got ${String(result.error)}`)
      tokens.push(result.token)
      expect(result.token).toMatch(/^fake-at-/)
      expect(events.filter((event) => event._tag === "Acquired").at(-1)).toMatchObject({ source: outcome.source })
      if (outcome.source === "credentials" && phase === "refresh") {
        expect(events.filter((event) => event._tag === "FellBack")).toMatchObject([{ reason: "RefreshTokenRejected" }])
      }
      // Cached: no new request (a token the client took for expired, a skewed Date say, would cause one).
      expect(await client.getAccessToken()).toBe(result.token)
      expect(server.count()).toBe(before + expectedPaths.length)
    } else {
      if (result.ok) return expect.fail(`expected ${outcome._tag}, got a token`)
      const error = result.error
      expect(error).toBeInstanceOf(errorClasses[outcome._tag])
      expect(error).toBeInstanceOf(Error)
      switch (outcome._tag) {
        case "TokenRequestFailed": {
          expect(error).toMatchObject({ _tag: outcome._tag, reason: outcome.reason })
          const failed = error as TokenRequestFailed
          expect(failed.status).toBe(outcome.status)
          expect(failed.retryAfterMs !== undefined).toBe(outcome.retryAfter === true)
          expect(failed.message).toMatch(outcome.cause)
          break
        }
        case "MalformedTokenResponse":
          expect(error).toMatchObject({ _tag: outcome._tag, status: 200, problems: outcome.problems })
          break
        case "InvalidCredentials":
          expect(error).toMatchObject({ _tag: outcome._tag, status: outcome.status, clientId: credentials.clientId })
          break
      }
      expect(events.filter((event) => event._tag === "Failed")).toHaveLength(1)
      // During the rest: the same error at once, no request (an expired-on-arrival set included: never handed out).
      const again: unknown = await client.getAccessToken().catch((e: unknown) => e)
      expect(again instanceof Error && again.message).toBe((error as Error).message)
      expect(server.count()).toBe(before + expectedPaths.length)
      outputs.push(...renderings(error).map((text) => ["error", text] as const))
    }
    outputs.push(
      ...events.flatMap((event) => renderings(event).map((text) => ["event", text] as const)),
      ...renderings(client).map((text) => ["client", text] as const)
    )
    expect(leaks(outputs, [credentials.clientSecret, ...tokens])).toEqual([])
  } finally {
    await client.close()
    await server.stop()
  }
}

describe.concurrent("fault matrix over real HTTP: createCairAuthClient (Promise adapter)", () => {
  for (const c of faultCases) {
    for (const phase of c.phases) {
      it(`${phase}: ${c.name}`, () => runCase(c, phase))
    }
  }
})
