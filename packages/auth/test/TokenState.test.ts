/**
 * `decide(state, now)`, the one place that says what a caller gets, over plain data: no runtime, no clock.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as FiberId from "effect/FiberId"
import * as Redacted from "effect/Redacted"
import { TokenRequestFailed } from "../src/CairAuthError.js"
import { deadlines } from "../src/internal/lifetime.js"
import * as TokenState from "../src/internal/tokenState.js"
import type { IssuedTokenSet } from "../src/TokenEndpoint.js"
import { TokenSet } from "../src/TokenSet.js"

/** 2026-01-01T00:00:00Z on the wall clock; the monotonic clock's origin is anywhere. */
const t0: TokenState.Now = { wall: Date.UTC(2026, 0, 1), mono: 123_456.789 }
const at = (wallMs: number, monoMs = wallMs): TokenState.Now => ({ wall: t0.wall + wallMs, mono: t0.mono + monoMs })

const issued: IssuedTokenSet = {
  tokens: TokenSet.make({
    accessToken: Redacted.make("AT-secret-access-0-x1y2z3"),
    refreshToken: Redacted.make("RT-secret-refresh-0-q4w5e6"),
    expiresAt: new Date(t0.wall + 600_000),
    refreshTokenExpiresAt: new Date(t0.wall + 86_400_000)
  }),
  sentAt: t0.wall,
  receivedAt: t0.wall,
  serverDate: undefined
}
const fresh = TokenState.initial(
  TokenState.entry(issued, deadlines(issued, { refreshWindowMs: undefined, expiryMarginMs: undefined }), 1, t0)
)
const flight: TokenState.Flight = Deferred.unsafeMake(FiberId.none)
const error = new TokenRequestFailed({ endpoint: "https://cair.test/api/refresh", reason: "Status", description: "x" })

describe("TokenState.decide", () => {
  it("no token: start a request", () => {
    expect(TokenState.decide(TokenState.initial(undefined), t0)).toEqual({ _tag: "Start", reason: "none" })
  })

  it("a fresh token on agreeing clocks: the same answer every time, nothing allocated", () => {
    const first = TokenState.decide(fresh, at(1_000))
    expect(first).toMatchObject({ _tag: "Serve", refresh: false, token: { generation: 1 } })
    expect(TokenState.decide(fresh, at(500_000))).toBe(first)
    // Less than a millisecond between the clocks is below the wall clock's resolution: the same answer.
    expect(TokenState.decide(fresh, at(1_000, 1_000.7))).toBe(first)
  })

  it("the refresh window: serve and refresh, unless a request is under way or the endpoint rests", () => {
    expect(TokenState.decide(fresh, at(540_000))).toMatchObject({ _tag: "Serve", refresh: true })
    expect(TokenState.decide({ ...fresh, flight }, at(540_000))).toMatchObject({ _tag: "Serve", refresh: false })
    const resting = { ...fresh, rest: { at: at(539_000), forMs: 2_000, error } }
    expect(TokenState.decide(resting, at(540_000))).toMatchObject({ _tag: "Serve", refresh: false })
    expect(TokenState.decide(resting, at(541_000))).toMatchObject({ _tag: "Serve", refresh: true })
  })

  it("whichever clock says more time has passed ends the token", () => {
    expect(TokenState.decide(fresh, at(594_999))).toMatchObject({ _tag: "Serve" })
    expect(TokenState.decide(fresh, at(595_000))).toEqual({ _tag: "Start", reason: "expired" })
    // Suspended: the wall clock went on, the monotonic clock did not.
    expect(TokenState.decide(fresh, at(595_000, 10_000))).toEqual({ _tag: "Start", reason: "expired" })
    // The wall clock stepped back an hour: the monotonic clock says it is over.
    expect(TokenState.decide(fresh, at(595_000 - 3_600_000, 595_000))).toEqual({ _tag: "Start", reason: "expired" })
  })

  it("after the wall clock stepped back, the deadlines handed out are on the wall clock as it reads now", () => {
    const decision = TokenState.decide(fresh, at(100_000 - 3_600_000, 100_000))
    if (decision._tag !== "Serve") return expect.fail(decision._tag)
    const view = fresh.entry!.view
    expect(decision.token).toMatchObject({
      generation: 1,
      expiresAt: view.expiresAt - 3_600_000,
      usableUntil: view.usableUntil - 3_600_000,
      refreshAt: view.refreshAt - 3_600_000
    })
    // Stepped back into the refresh window by the monotonic clock.
    expect(TokenState.decide(fresh, at(540_000 - 3_600_000, 540_000))).toMatchObject({ _tag: "Serve", refresh: true })
  })

  it("a forced refresh never gets the token, but joins the request under way", () => {
    expect(TokenState.decide(fresh, at(1_000), true)).toEqual({ _tag: "Start", reason: "forced" })
    expect(TokenState.decide({ ...fresh, flight }, at(1_000), true)).toEqual({ _tag: "Join", flight })
  })

  it("a rest: the last error at once, or a wait when there is none; its end on the monotonic clock", () => {
    const expired = { ...fresh, entry: TokenState.invalidated(fresh.entry!) }
    const rest = { at: at(10_000), forMs: 4_000, error }
    expect(TokenState.decide({ ...expired, rest }, at(11_000))).toEqual({ _tag: "Fail", error })
    expect(TokenState.decide({ ...expired, rest: { ...rest, error: undefined } }, at(11_000))).toEqual({
      _tag: "Wait",
      millis: 3_000
    })
    // The wall clock stepped back: the monotonic clock ends the rest.
    expect(TokenState.decide({ ...expired, rest }, at(14_000 - 3_600_000, 14_000))).toEqual({
      _tag: "Start",
      reason: "expired"
    })
    // The wall clock stepped forward: the rest goes on (was: ended by the wall clock).
    expect(TokenState.decide({ ...expired, rest }, at(11_000 + 600_000, 11_000))).toEqual({ _tag: "Fail", error })
    expect(TokenState.decide({ ...expired, rest: { ...rest, error: undefined } }, at(11_000 + 600_000, 11_000)))
      .toEqual({ _tag: "Wait", millis: 3_000 })
  })

  it("an invalidated token is never handed out; its refresh token still is usable", () => {
    const entry = TokenState.invalidated(fresh.entry!)
    expect(TokenState.decide({ ...fresh, entry }, at(1_000))).toEqual({ _tag: "Start", reason: "expired" })
    expect(TokenState.refreshTokenUsable(entry, at(1_000))).toBe(true)
  })

  it("rests: doubling from 1 s to 30 s, at least a Retry-After, which counts up to 5 minutes", () => {
    expect([1, 2, 3, 6, 20].map((failures) => TokenState.restMs(failures, undefined))).toEqual([
      1_000,
      2_000,
      4_000,
      30_000,
      30_000
    ])
    expect(TokenState.restMs(1, 7_000)).toBe(7_000)
    expect(TokenState.restMs(1, 9_000_000_000_000_000)).toBe(300_000)
    expect(TokenState.restMs(1, Infinity)).toBe(300_000)
  })
})

describe("TokenState.arrived: a token set expired on arrival is never handed out", () => {
  const expiredSet: IssuedTokenSet = {
    ...issued,
    tokens: TokenSet.make({
      accessToken: Redacted.make("AT-secret-access-1-expired"),
      refreshToken: Redacted.make("RT-secret-refresh-1-next"),
      expiresAt: new Date(t0.wall - 1_000),
      refreshTokenExpiresAt: new Date(t0.wall + 86_400_000)
    })
  }
  const limits = (now: TokenState.Now) =>
    deadlines({ ...expiredSet, sentAt: now.wall, receivedAt: now.wall }, {
      refreshWindowMs: undefined,
      expiryMarginMs: undefined
    })

  it("no usable token: its callers get the cycle's error; its refresh token is kept for the next cycle", () => {
    const now = at(600_000)
    const result = TokenState.arrived({ ...fresh, flight }, expiredSet, limits(now), now)
    expect(result.expiredOnArrival).toBe(true)
    // The flight goes on until the cycle's failure is recorded: callers join it and get that error.
    expect(TokenState.decide(result.state, now)).toEqual({ _tag: "Join", flight })
    const after = TokenState.failed(result.state, error, undefined, now).state
    expect(TokenState.decide(after, at(600_500))).toEqual({ _tag: "Fail", error })
    // After the rest: a new cycle, with the refresh token of the expired set.
    expect(TokenState.decide(after, at(601_000))).toEqual({ _tag: "Start", reason: "expired" })
    expect(after.entry?.renewal.tokens.refreshToken).toBe(expiredSet.tokens.refreshToken)
    expect(after.entry !== undefined && TokenState.refreshTokenUsable(after.entry, at(601_000))).toBe(true)
  })

  it("during a background refresh: the current token stays in service, with the refresh token that replaced its own", () => {
    const now = at(560_000)
    const result = TokenState.arrived({ ...fresh, flight }, expiredSet, limits(now), now)
    expect(result.expiredOnArrival).toBe(true)
    const after = TokenState.failed(result.state, error, undefined, now).state
    expect(TokenState.decide(after, at(560_500))).toMatchObject({
      _tag: "Serve",
      refresh: false,
      token: { generation: 1, token: issued.tokens.accessToken }
    })
    expect(after.entry?.renewal.tokens.refreshToken).toBe(expiredSet.tokens.refreshToken)
    // Past the current token's life: a new cycle, never the expired set's access token.
    expect(TokenState.decide(after, at(595_000))).toEqual({ _tag: "Start", reason: "expired" })
  })
})

describe("TokenState.rejected: every 401 invalidates exactly its token, and renewals it causes are limited", () => {
  /** The token set that replaces the current entry at `now`, as a flight would bring it. */
  const renew = (state: TokenState.State, now: TokenState.Now) =>
    TokenState.arrived(
      state,
      issued,
      deadlines(
        {
          ...issued,
          sentAt: now.wall,
          receivedAt: now.wall,
          tokens: TokenSet.make({ ...issued.tokens, expiresAt: new Date(now.wall + 600_000) })
        },
        { refreshWindowMs: undefined, expiryMarginMs: undefined }
      ),
      now
    ).state

  it("a late 401 (the token was replaced already) changes nothing, and a retry gets the current token", () => {
    const result = TokenState.rejected(fresh, 0, at(1_000))
    expect(result).toEqual({ state: fresh, retry: true, invalidated: false, rest: undefined })
  })

  it("the first rejection invalidates the token and allows a retry with a new one; repeats answer the same", () => {
    const first = TokenState.rejected(fresh, 1, at(1_000))
    expect(first).toMatchObject({ retry: true, invalidated: true, rest: undefined })
    expect(TokenState.decide(first.state, at(1_000))).toEqual({ _tag: "Start", reason: "expired" })
    // Other requests rejected with the same token: no second invalidation, the same answer.
    expect(TokenState.rejected(first.state, 1, at(1_001))).toEqual({
      state: first.state,
      retry: true,
      invalidated: false,
      rest: undefined
    })
  })

  it("a second freshly issued token rejected in a row: no retry, a rest, the rejected token served meanwhile", () => {
    const renewed = renew(TokenState.rejected(fresh, 1, at(1_000)).state, at(1_100))
    expect(TokenState.generation(renewed)).toBe(2)
    const second = TokenState.rejected(renewed, 2, at(1_200))
    expect(second).toMatchObject({ retry: false, invalidated: true, rest: { forMs: 2_000, error: undefined } })
    expect(second.state.rejections).toBe(2)
    expect(TokenState.decide(second.state, at(3_199))).toMatchObject({ _tag: "Serve", token: { generation: 2 } })
    expect(TokenState.decide(second.state, at(3_200))).toEqual({ _tag: "Start", reason: "expired" })
    expect(TokenState.rejected(second.state, 2, at(2_000))).toMatchObject({ retry: false, invalidated: false })
  })

  it("the rests double with each further fresh token rejected, up to 60 s", () => {
    let state = TokenState.rejected(fresh, 1, at(0)).state
    let time = 0
    const rests: Array<number> = []
    for (let generation = 2; generation <= 9; generation++) {
      state = renew(state, at(time))
      const result = TokenState.rejected(state, generation, at(time))
      rests.push(result.rest?.forMs ?? 0)
      state = result.state
      time += result.rest?.forMs ?? 0
    }
    expect(rests).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
  })

  it("a token rejected after its first minute starts a new run; a renewal not caused by a 401 ends one", () => {
    const renewed = renew(TokenState.rejected(fresh, 1, at(0)).state, at(100))
    // Generation 2 served for more than a minute, then revoked: one retry, as for the first rejection.
    expect(TokenState.rejected(renewed, 2, at(100 + TokenState.freshMs))).toMatchObject({
      retry: true,
      rest: undefined
    })
    // Generation 2 replaced by a refresh before any 401: its successor's rejection is a first one.
    const refreshed = renew(renewed, at(500))
    expect(refreshed.rejections).toBe(0)
    expect(TokenState.rejected(refreshed, 3, at(600))).toMatchObject({ retry: true, rest: undefined })
  })
})
