import { FakeCairServer } from "@cair/auth-testing"
import { afterEach, beforeEach, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type MockInstance, vi } from "vitest"
import { AppLive, FakeCairLive, main, memberIds, program } from "../src/program.js"

const everyoneEligible = memberIds.map((memberId) => ({ memberId, eligible: true }))

/** What the program printed (`Console.log` ends in `console.log`). */
let log: MockInstance<typeof console.log>
const printed = () => log.mock.calls.map((args) => args.join(" ")).join("\n")
beforeEach(() => {
  log = vi.spyOn(console, "log").mockImplementation(() => {})
})
afterEach(() => {
  log.mockRestore()
})

it.live("main, with no CAIR_* configuration, runs the program against the fake server", () =>
  Effect.gen(function*() {
    expect(yield* main).toEqual(everyoneEligible)
    expect(printed()).toContain("using the fake Cair server at http://127.0.0.1:")
    expect(printed()).toContain("member m-1001: eligible=true")
    expect(printed()).toContain("token requests made: 1")
    expect(printed()).not.toMatch(/fake-[ar]t-|demo-secret/)
  }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))))

it.live("the program on AppLive and the fake server: three concurrent checks, one token request", () =>
  Effect.gen(function*() {
    expect(yield* program).toEqual(everyoneEligible)
    const server = yield* FakeCairServer.FakeCairServer
    expect(yield* server.count("/api/token")).toBe(1)
    expect(yield* server.count("/api/eligibility/v1")).toBe(memberIds.length)
  }).pipe(Effect.provide(AppLive.pipe(Layer.provideMerge(FakeCairLive)))))
