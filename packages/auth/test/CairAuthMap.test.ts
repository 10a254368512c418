import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as CairAuthMap from "../src/CairAuthMap.js"
import { credentials, scriptedHttp, tokenResponse } from "./fixtures.js"

/** One client id per organization; an unknown organization has no credentials. */
const optionsOf = (organization: string) =>
  organization === "unknown"
    ? Effect.fail(new Error(`no credentials for ${organization}`))
    : Effect.succeed({ ...credentials, clientId: `org-${organization}`, baseUrl: "https://cair.test" })

/** A map over a scripted server that issues token set number `index`; every request is recorded. */
const setup = Effect.gen(function*() {
  const http = yield* scriptedHttp((request, index) => Effect.succeed(tokenResponse({ n: index, now: request.at })))
  const clients = yield* CairAuthMap.make({ options: optionsOf, idleTimeToLive: "1 minute" }).pipe(
    Effect.provide(http.layer)
  )
  const clientIds = Effect.map(http.requests, (requests) => requests.map((request) => request.body["clientId"]))
  return { clients, clientIds }
})

describe("CairAuthMap", () => {
  it.scoped("one service per organization, with its own client id, shared while in use", () =>
    Effect.gen(function*() {
      const { clientIds, clients } = yield* setup
      const a = yield* clients.get("a")
      expect(yield* clients.get("a")).toBe(a)
      const tokenA = yield* a.accessToken
      const tokenB = yield* clients.accessToken("b")
      expect(Redacted.value(tokenA)).not.toBe(Redacted.value(tokenB))
      // Cached: the second read of each asks nobody.
      expect(Redacted.value(yield* clients.accessToken("a"))).toBe(Redacted.value(tokenA))
      expect(Redacted.value(yield* clients.accessToken("b"))).toBe(Redacted.value(tokenB))
      expect(yield* clientIds).toEqual(["org-a", "org-b"])
      expect((yield* clients.keys).sort()).toEqual(["a", "b"])
    }))

  it.scoped("an idle service is closed after idleTimeToLive, with its token; the next use makes a new one", () =>
    Effect.gen(function*() {
      const { clientIds, clients } = yield* setup
      yield* clients.accessToken("a")
      yield* TestClock.adjust("59 seconds")
      expect(yield* clients.keys).toEqual(["a"])
      yield* TestClock.adjust("2 seconds")
      expect(yield* clients.keys).toEqual([])
      yield* clients.accessToken("a")
      expect(yield* clientIds).toEqual(["org-a", "org-a"])
    }))

  it.scoped("a service held by a scope is not closed while held, however long", () =>
    Effect.gen(function*() {
      const { clients } = yield* setup
      const scope = yield* Scope.make()
      const a = yield* Scope.extend(clients.get("a"), scope)
      yield* TestClock.adjust("1 hour")
      expect(yield* clients.keys).toEqual(["a"])
      yield* a.accessToken
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("61 seconds")
      expect(yield* clients.keys).toEqual([])
    }))

  it.scoped("invalidate forgets a service: the next get makes a new one with the options read again", () =>
    Effect.gen(function*() {
      const { clientIds, clients } = yield* setup
      yield* clients.accessToken("a")
      yield* clients.invalidate("a")
      yield* clients.accessToken("a")
      expect(yield* clientIds).toEqual(["org-a", "org-a"])
    }))

  it.scoped("an organization whose options fail gets that error, and nothing is cached for it", () =>
    Effect.gen(function*() {
      const { clients } = yield* setup
      const error = yield* Effect.flip(clients.accessToken("unknown"))
      expect(error).toEqual(new Error("no credentials for unknown"))
      expect(yield* clients.keys).toEqual([])
    }))

  it.scoped("invalid options are an InvalidOptions error for that organization only", () =>
    Effect.gen(function*() {
      const http = yield* scriptedHttp((request, index) => Effect.succeed(tokenResponse({ n: index, now: request.at })))
      const clients = yield* CairAuthMap.make({
        options: (organization: string) =>
          Effect.succeed({ ...credentials, clientId: organization === "broken" ? "" : organization })
      }).pipe(Effect.provide(http.layer))
      const error = yield* Effect.flip(clients.accessToken("broken"))
      expect(error._tag).toBe("InvalidOptions")
      expect(Redacted.isRedacted(yield* clients.accessToken("fine"))).toBe(true)
    }))
})
