/**
 * Where the token and the secret go, through the Promise adapter, over real HTTP on two loopback servers: the
 * Cair API (the fake server) and "another host" (a second fake server, which would accept anything sent to it).
 * The same cases as the Effect suite (`packages/auth/test/TokenBoundary.test.ts`), plus `fetch(Request, init)`
 * against the global `fetch`.
 */
import { FakeCairServer } from "@cair/auth-testing"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { unsafeTokens } from "../../auth/test/utils/headerUnsafeTokens.js"
import { refusedPaths, refusedUrls } from "../../auth/test/utils/pathTricks.js"
import { findSecret, renderings } from "../../auth/test/utils/secrets.js"
import type { CairAuthClient, CairAuthClientOptions } from "../src/index.js"
import { createCairAuthClient, MalformedTokenResponse, TokenRequestFailed, UnsafeRequestUrl } from "../src/index.js"

const { Fault } = FakeCairServer
const eligibility = "/api/eligibility/v1"

let api: FakeCairServer.Handle
let other: FakeCairServer.Handle
const clients: Array<CairAuthClient> = []

const client = (options: Partial<CairAuthClientOptions> = {}) => {
  const auth = createCairAuthClient({ ...api.credentials, baseUrl: api.url, maxRetries: 0, ...options })
  clients.push(auth)
  return auth
}

beforeEach(async () => {
  ;[api, other] = await Promise.all([FakeCairServer.start(), FakeCairServer.start()])
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((auth) => auth.close()))
  await Promise.all([api.stop(), other.stop()])
})

const hostOf = (url: string) => new URL(url).host
const json = (memberId: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ memberId })
})
const seen = (server: FakeCairServer.Handle) =>
  server.requests().map((entry) => [entry.method, entry.path, entry.authorization] as const)

/** A user-supplied fetch whose body can be sent again: the bytes are copied on every call. */
const replayingFetch: typeof globalThis.fetch = (input, init) =>
  globalThis.fetch(input, {
    ...init,
    body: init?.body instanceof Uint8Array ? Buffer.from(init.body) : init?.body ?? null
  })

/**
 * A logging wrapper as apps write them: it passes method, headers, body and signal on, but not `redirect`, so
 * the global fetch follows redirects (a 307/308 with the body, which this wrapper made re-sendable).
 */
const followingFetch: typeof globalThis.fetch = (input, init) =>
  globalThis.fetch(input, {
    method: init?.method ?? "GET",
    headers: init?.headers ?? {},
    body: init?.body instanceof Uint8Array ? new TextDecoder().decode(init.body) : init?.body ?? null,
    signal: init?.signal ?? null
  })

/** A fetch that follows redirects by hand and keeps every header on every hop, `Authorization` included. */
const headerKeepingFetch: typeof globalThis.fetch = async (input, init) => {
  let url = new URL(input instanceof Request ? input.url : input)
  let method = init?.method ?? "GET"
  let body = init?.body ?? null
  for (let hops = 0; hops < 5; hops++) {
    const response = await globalThis.fetch(url, { ...init, method, body, redirect: "manual" })
    const location = response.headers.get("location")
    if (response.status < 300 || response.status >= 400 || location === null) return response
    url = new URL(location, url)
    if (response.status <= 303) [method, body] = ["GET", null]
  }
  throw new TypeError("too many redirects")
}

const tokenSetWith = (accessToken: string) =>
  JSON.stringify({
    accessToken,
    refreshToken: "fake-rt-1-0123456789ab",
    expiresAt: "2099-01-01T00:00:00Z",
    refreshTokenExpiresAt: "2099-01-02T00:00:00Z"
  })

describe("auth.fetch: where the token goes", () => {
  it("every path trick and foreign URL rejects with UnsafeRequestUrl before anything is sent", async () => {
    const auth = client()
    const cases = [...refusedPaths(hostOf(other.url)), ...refusedUrls(api.url, hostOf(other.url))]
    for (const [input, reason] of cases) {
      const error = await auth.fetch(input, json("m-1")).catch((e: unknown) => e)
      expect(error, JSON.stringify(input)).toBeInstanceOf(UnsafeRequestUrl)
      expect(error).toMatchObject({ _tag: "UnsafeRequestUrl", reason, baseUrl: api.url })
    }
    const viaRequest = await auth.fetch(new Request(`${other.url}${eligibility}`)).catch((e: unknown) => e)
    expect(viaRequest).toMatchObject({ _tag: "UnsafeRequestUrl", reason: "OtherOrigin", origin: other.url })
    expect(api.count()).toBe(0) // not even a token request
    expect(other.count()).toBe(0)
    expect((await auth.fetch(eligibility, json("m-1"))).status).toBe(200)
  })

  it("redirects are followed as fetch follows them; a hop to another origin goes without the token", async () => {
    const auth = client()
    for (const location of [`${other.url}${eligibility}`, `//${hostOf(other.url)}${eligibility}`]) {
      for (const status of [301, 302, 303, 307, 308]) {
        api.inject(Fault.Redirect({ status, location }), { path: eligibility })
        const response = await auth.fetch(eligibility, json("m-2"))
        // The other host answers the GET 404 (its route takes POST) and the POST 401: it wants a token it did
        // not get. That 401 is not the Cair API's and invalidates nothing.
        expect(response.status).toBe(status <= 303 ? 404 : 401)
        expect(response.url).toBe(`${other.url}${eligibility}`)
      }
    }
    // 301/302/303 turn a POST into a GET without a body; 307/308 keep both.
    expect(seen(other)).toEqual(
      [1, 2].flatMap(() => ["GET", "GET", "GET", "POST", "POST"].map((method) => [method, eligibility, false] as const))
    )
    expect(other.requests().at(-1)?.headers["content-type"]).toBe("application/json")
    expect(other.requests()[0].headers["content-type"]).toBeUndefined()
    // A redirect under the base URL keeps the token.
    api.inject(Fault.Redirect({ status: 307, location: eligibility }), { path: eligibility })
    expect((await auth.fetch(eligibility, json("m-3"))).status).toBe(200)
    expect(seen(api).slice(-2)).toEqual([["POST", eligibility, true], ["POST", eligibility, true]])
    expect(api.count("/api/token")).toBe(1)
    expect(api.count("/api/refresh")).toBe(0)
  })

  it("redirect: \"manual\" returns the 3xx, \"error\" rejects, as with the global fetch", async () => {
    const auth = client()
    api.inject(Fault.Redirect({ status: 302, location: `${other.url}${eligibility}` }), { path: eligibility })
    const manual = await auth.fetch(eligibility, { ...json("m-4"), redirect: "manual" })
    expect([manual.status, manual.headers.get("location")]).toEqual([302, `${other.url}${eligibility}`])
    api.inject(Fault.Redirect({ status: 302, location: `${other.url}${eligibility}` }), { path: eligibility })
    await expect(auth.fetch(eligibility, { ...json("m-5"), redirect: "error" })).rejects.toThrow(TypeError)
    expect(other.count()).toBe(0)
  })

  it("the token endpoints never follow a redirect, even with a fetch that replays bodies", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const cold = client({ fetch: replayingFetch })
      api.inject(Fault.Redirect({ status, location: `${other.url}/api/token` }), { path: "/api/token" })
      const error = await cold.getAccessToken().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TokenRequestFailed)
      expect(error).toMatchObject({ reason: "Status", status })
      expect((error as Error).message).toContain(`HTTP ${status}): redirected to ${other.url}; not followed`)

      const warm = client({ fetch: replayingFetch })
      await warm.getAccessToken()
      await warm.invalidate()
      api.inject(Fault.Redirect({ status, location: `${other.url}/api/refresh` }), { path: "/api/refresh" })
      const refreshError = await warm.getAccessToken().catch((e: unknown) => e)
      expect(refreshError).toMatchObject({ _tag: "TokenRequestFailed", reason: "Status", status })
    }
    expect(other.count()).toBe(0)
  })

  it("a fetch that follows redirects itself: the other origin's token is never handed out nor sent", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      // A client of its own for each status: the rest after a failure would answer the same error.
      const auth = client({ fetch: followingFetch })
      api.inject(Fault.Redirect({ status, location: `${other.url}/api/token` }), { path: "/api/token" })
      other.inject(Fault.Malformed({ body: tokenSetWith("EVIL_TOKEN") }), { path: "/api/token" })
      const error = await auth.getAccessToken().catch((e: unknown) => e)
      expect(error, String(status)).toBeInstanceOf(TokenRequestFailed)
      expect(error).toMatchObject({ reason: "Redirected", status: 200 })
      expect((error as Error).message).toContain(
        `the answer came from another origin (${other.url}) after a redirect the HTTP client followed; not used`
      )
      // The same error through auth.fetch, in the rest: nothing reaches the API with the other token.
      await expect(auth.fetch(eligibility, json("m-6"))).rejects.toMatchObject({ reason: "Redirected" })
    }
    // One token request each, not retried; the other host got each (the documented limit of such a fetch).
    expect(api.count("/api/token")).toBe(5)
    expect(other.count("/api/token")).toBe(5)
    expect(api.count(eligibility)).toBe(0)

    // The refresh endpoint alike.
    const warm = client({ fetch: followingFetch })
    await warm.getAccessToken()
    await warm.invalidate()
    api.inject(Fault.Redirect({ status: 307, location: `${other.url}/api/refresh` }), { path: "/api/refresh" })
    other.inject(Fault.Malformed({ body: tokenSetWith("EVIL_TOKEN") }), { path: "/api/refresh" })
    await expect(warm.getAccessToken()).rejects.toMatchObject({ _tag: "TokenRequestFailed", reason: "Redirected" })
    expect(other.count("/api/refresh")).toBe(1)
  })

  it("auth.fetch with a fetch that follows redirects itself: the other host's 401 renews nothing", async () => {
    for (const [userFetch, carried] of [[followingFetch, false], [headerKeepingFetch, true]] as const) {
      const auth = client({ fetch: userFetch })
      other.resetLog()
      const tokenRequests = api.count("/api/token")
      for (const status of [301, 302, 303, 307, 308]) {
        api.inject(Fault.Redirect({ status, location: `${other.url}${eligibility}` }), { path: eligibility })
        const response = await auth.fetch(eligibility, json("m-7"))
        // The response is the other host's, as the app's fetch made it (404 to a GET, 401 to a POST).
        expect(response.status, String(status)).toBe(status <= 303 ? 404 : 401)
        expect(response.url).toBe(`${other.url}${eligibility}`)
      }
      // One request each at the other host: its 401 is not the API's, so the token is never sent again. Whether
      // the token went along on that one hop is the app's fetch's doing: the global fetch drops `Authorization`
      // on a cross-origin redirect; a fetch that keeps every header does not (the documented limit).
      expect(seen(other)).toEqual(
        ["GET", "GET", "GET", "POST", "POST"].map((method) => [method, eligibility, carried] as const)
      )
      expect(api.count("/api/token") - tokenRequests).toBe(1)
      expect(api.count("/api/refresh")).toBe(0)
      // The token still works: nothing was invalidated.
      expect((await auth.fetch(eligibility, json("m-8"))).status).toBe(200)
      expect(api.count("/api/token") - tokenRequests).toBe(1)
    }
  })

  it("an access token that is not a bearer token is MalformedTokenResponse naming the field, not the value", async () => {
    for (const accessToken of unsafeTokens) {
      api.inject(
        Fault.Malformed({
          body: JSON.stringify({
            accessToken,
            refreshToken: "fake-rt-1-0123456789ab",
            expiresAt: "2099-01-01T00:00:00Z",
            refreshTokenExpiresAt: "2099-01-02T00:00:00Z"
          })
        }),
        { path: "/api/token" }
      )
      const error = await client().fetch(eligibility, json("m-6")).catch((e: unknown) => e)
      expect(error, JSON.stringify(accessToken)).toBeInstanceOf(MalformedTokenResponse)
      expect(error).toMatchObject({ problems: ["accessToken has the wrong type or format"] })
      for (const text of renderings(error)) expect(findSecret(text, [accessToken])).toBeUndefined()
    }
    expect(api.count(eligibility)).toBe(0)
  })

  it("a 401 to a stream body is returned, and still invalidates the token it carried", async () => {
    const auth = client()
    expect((await auth.fetch(eligibility, json("m-7"))).status).toBe(200)
    api.revokeAccessTokens()
    const upload = (memberId: string) =>
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(JSON.stringify({ memberId })))
          controller.close()
        }
      })
    const first = await auth.fetch(eligibility, { method: "POST", body: upload("m-8"), duplex: "half" } as RequestInit)
    expect(first.status).toBe(401)
    const second = await auth.fetch(eligibility, { method: "POST", body: upload("m-9"), duplex: "half" } as RequestInit)
    expect(second.status).toBe(200)
    expect(api.requests().filter((entry) => entry.path === eligibility).map((entry) => entry.status)).toEqual([
      200,
      401,
      200
    ])
    expect(api.count("/api/refresh")).toBe(1)
  })

  it("a header value never shows in fetch's TypeError", async () => {
    const auth = client()
    const error = await auth.fetch(eligibility, { headers: { "x-api-key": "S3CRET-api-key-2\r\nX-Injected: 1" } })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toContain("<redacted>")
    for (const text of renderings(error)) expect(findSecret(text)).toBeUndefined()
    expect(api.count(eligibility)).toBe(0)
  })

  it("the token in a failed fetch's error is scrubbed as the core does it, and the error keeps its code", async () => {
    // A fetch whose network error repeats the request's Authorization header, as some wrappers' messages do.
    const leaky: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      if (url.pathname !== eligibility) return fetch(input, init)
      const sent = new Headers(init?.headers).get("authorization")
      const cause = Object.assign(new Error(`socket hang up (${sent})`), { code: "ECONNRESET" })
      return Promise.reject(new TypeError("fetch failed", { cause }))
    }
    const error = await client({ fetch: leaky }).fetch(eligibility, json("m-10")).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).cause).toMatchObject({ message: "socket hang up (Bearer <redacted>)", code: "ECONNRESET" })
    for (const text of renderings(error)) expect(findSecret(text)).toBeUndefined()
  })
})

describe("auth.fetch against an API that rejects every token", () => {
  it("a burst of calls makes exactly 2 token requests, and every caller gets the 401", async () => {
    const auth = client()
    api.inject(Fault.Status({ status: 401 }), { path: eligibility, times: 1_000_000 })
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => auth.fetch(eligibility, json(`m-${i}`))))
    expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 20 }, () => 401))
    // The first token, rejected; one renewal, which every rejected request retried with, rejected too: a rest.
    expect([api.count("/api/token"), api.count("/api/refresh")]).toEqual([1, 1])
    expect(api.count(eligibility)).toBe(40)
  })

  it("calls in a row: at most the renewals the rests allow, whatever the machine's speed", async () => {
    const auth = client()
    api.inject(Fault.Status({ status: 401 }), { path: eligibility, times: 1_000_000 })
    const started = Date.now()
    for (let i = 0; i < 30; i++) expect((await auth.fetch(eligibility, json(`m-${i}`))).status).toBe(401)
    const elapsed = Date.now() - started
    // Renewals at 0 s (the first token and one after its 401), then after rests of 2, 4, 8, 16, 32, 60 s.
    const ends = [0, 0, 2_000, 6_000, 14_000, 30_000, 62_000]
    const allowed = ends.filter((end) => end <= elapsed + 1_000).length
    const made = api.count("/api/token") + api.count("/api/refresh")
    expect(made).toBeGreaterThanOrEqual(2)
    expect(made).toBeLessThanOrEqual(allowed)
  })
})

describe("auth.fetch(input, init) behaves as the global fetch", () => {
  /** What the server saw of the last eligibility request, and what it answered. */
  const lastSeen = async (response: Response) => {
    const entry = api.requests().filter((e) => e.path === eligibility).at(-1)
    return {
      method: entry?.method,
      requestId: entry?.headers["x-request-id"],
      fromRequest: entry?.headers["x-from-request"],
      body: await response.json()
    }
  }

  it("init overrides the Request's method, headers and body", async () => {
    const auth = client()
    const token = await auth.getAccessToken()
    const request = () =>
      new Request(`${api.url}${eligibility}`, {
        method: "PUT",
        headers: { "x-from-request": "1" },
        body: JSON.stringify({ memberId: "from-request" })
      })
    const init: RequestInit = {
      method: "POST",
      headers: { "x-request-id": "r-1", authorization: `Bearer ${token}` },
      body: JSON.stringify({ memberId: "from-init" })
    }
    const viaGlobal = await lastSeen(await fetch(request(), init))
    const viaAuth = await lastSeen(await auth.fetch(request(), init))
    expect(viaAuth).toEqual(viaGlobal)
    expect(viaAuth).toEqual({
      method: "POST",
      requestId: "r-1",
      fromRequest: undefined,
      body: { eligible: true, memberId: "from-init" }
    })
    // Without init, the Request as it is (with its body, sent again on a 401).
    api.revokeAccessTokens()
    const alone = await auth.fetch(
      new Request(`${api.url}${eligibility}`, { method: "POST", body: JSON.stringify({ memberId: "alone" }) })
    )
    expect(await lastSeen(alone)).toMatchObject({ method: "POST", body: { memberId: "alone" } })
  })

  it("an aborted signal, in init or in the Request, rejects with its reason and sends nothing", async () => {
    const auth = client()
    await auth.getAccessToken()
    const aborted = AbortSignal.abort()
    const reasons = await Promise.all([
      auth.fetch(new Request(`${api.url}${eligibility}`), { signal: aborted }).catch((e: unknown) => e),
      auth.fetch(new Request(`${api.url}${eligibility}`, { signal: aborted })).catch((e: unknown) => e),
      auth.fetch(eligibility, { signal: aborted }).catch((e: unknown) => e),
      fetch(new Request(`${api.url}${eligibility}`), { signal: aborted }).catch((e: unknown) => e)
    ])
    for (const reason of reasons) expect(reason).toMatchObject({ name: "AbortError" })
    // init's signal counts over the Request's: a live one in init sends the request.
    const live = await auth.fetch(new Request(`${api.url}${eligibility}`, { method: "POST", signal: aborted }), {
      signal: new AbortController().signal
    })
    expect(live.status).toBe(200)
    expect(api.count(eligibility)).toBe(1)
  })
})
