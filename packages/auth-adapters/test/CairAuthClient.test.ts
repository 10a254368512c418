import { FakeCairServer } from "@cair/auth-testing"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { inspect } from "node:util"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  ClientClosed,
  createCairAuthClient,
  formatError,
  InvalidCredentials,
  InvalidOptions,
  MalformedTokenResponse,
  TokenRequestFailed
} from "../src/index.js"
import type { CairAuthClient } from "../src/index.js"

const { Fault } = FakeCairServer

let server: FakeCairServer.Handle
const clients: Array<CairAuthClient> = []

const client = (options: Partial<Parameters<typeof createCairAuthClient>[0]> = {}) => {
  const auth = createCairAuthClient({ ...server.credentials, baseUrl: server.url, maxRetries: 1, ...options })
  clients.push(auth)
  return auth
}

beforeEach(async () => {
  server = await FakeCairServer.start()
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((auth) => auth.close()))
  await server.stop()
})

const eligibility = (auth: CairAuthClient, init: RequestInit = {}) =>
  auth.fetch("/api/eligibility/v1", { method: "POST", body: JSON.stringify({ memberId: "m-1" }), ...init })

describe("createCairAuthClient", () => {
  it("gets one token for many concurrent callers, accepted by the API", async () => {
    const auth = client()
    const tokens = await Promise.all(Array.from({ length: 200 }, () => auth.getAccessToken()))
    expect(new Set(tokens).size).toBe(1)
    expect(server.count("/api/token")).toBe(1)
    expect(await auth.getAuthorizationHeader()).toBe(`Bearer ${tokens[0]}`)
    const response = await eligibility(auth)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ eligible: true, memberId: "m-1" })
  })

  it("serves a cached token without entering the runtime: it resolves within two microtask turns", async () => {
    const auth = client()
    await auth.getAccessToken()
    let resolved = false
    void auth.getAccessToken().then(() => (resolved = true))
    await Promise.resolve()
    await Promise.resolve()
    expect(resolved).toBe(true)
  })

  it("fetch: on a 401 invalidates, takes a new token and retries once", async () => {
    const auth = client()
    await eligibility(auth)
    server.revokeAccessTokens()
    const response = await eligibility(auth)
    expect(response.status).toBe(200)
    expect(server.count("/api/eligibility/v1")).toBe(3)
    expect(server.count("/api/refresh")).toBe(1)
  })

  it("fetch: a second 401 is returned as the response", async () => {
    const auth = client()
    server.inject(Fault.Status({ status: 401 }), { path: "/api/eligibility/v1", times: 2 })
    const response = await eligibility(auth)
    expect(response.status).toBe(401)
    expect(server.count("/api/eligibility/v1")).toBe(2)
  })

  it("fetch: a streamed body is not sent twice; the 401 is returned", async () => {
    const auth = client()
    server.inject(Fault.Status({ status: 401 }), { path: "/api/eligibility/v1" })
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("{}"))
        controller.close()
      }
    })
    const response = await eligibility(auth, { body, duplex: "half" } as RequestInit)
    expect(response.status).toBe(401)
    expect(server.count("/api/eligibility/v1")).toBe(1)
  })

  it("fetch: takes a Request, and never sends the token to another origin", async () => {
    const auth = client()
    const response = await auth.fetch(new Request(`${server.url}/api/eligibility/v1`, { method: "POST", body: "{}" }))
    expect(response.status).toBe(200)
    await expect(auth.fetch("https://example.com/api/eligibility/v1")).rejects.toThrow(
      /Refusing to send the Cair token/
    )
    expect(server.count("/api/token")).toBe(1)
  })

  it("rejects wrong credentials with InvalidCredentials, and shows no secret anywhere", async () => {
    const secret = "very-secret-value-1234"
    const auth = client({ clientSecret: secret })
    const error = await auth.getAccessToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidCredentials)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ _tag: "InvalidCredentials", status: 401 })
    const token = await client().getAccessToken()
    for (
      const text of [
        String(error),
        inspect(error),
        JSON.stringify(error),
        String(auth),
        inspect(auth),
        JSON.stringify(auth)
      ]
    ) {
      expect(text).not.toContain(secret)
      expect(text).not.toContain(token)
    }
    expect(server.count("/api/token")).toBe(2)
  })

  it("formatError: the client's errors as one line with what to check, never the secret", async () => {
    const secret = "very-secret-value-5678"
    const rejected = await client({ clientSecret: secret }).getAccessToken().catch((e: unknown) => e)
    const unreachable = await client({ baseUrl: "http://127.0.0.1:9", maxRetries: 0, logLevel: "None" })
      .getAccessToken()
      .catch((e: unknown) => e)
    const closed = client()
    await closed.close()
    const afterClose = await closed.getAccessToken().catch((e: unknown) => e)
    const invalid = (() => {
      try {
        createCairAuthClient({ clientId: "c", clientSecret: secret, baseUrl: "http://api.example.com" })
      } catch (error) {
        return error
      }
    })()
    const lines = [rejected, unreachable, afterClose, invalid].map(formatError)
    expect(lines[0]).toMatch(/^InvalidCredentials: .*\b401\b/)
    expect(lines[1]).toMatch(
      /^TokenRequestFailed: .*\(is the base URL \(CAIR_BASE_URL\) right, and can this machine reach it\?\)$/
    )
    expect(lines[2]).toMatch(/^ClientClosed: .*\(a call was made after close\(\): create a new client\)$/)
    expect(lines[3]).toMatch(/^InvalidOptions: .*baseUrl/)
    for (const line of lines) {
      expect(line).not.toContain("\n")
      expect(line).not.toContain(secret)
    }
    expect(formatError(new Error("plain\n  failure"))).toBe("plain failure")
  })

  it("rejects a malformed answer and a failing server with typed errors carrying the status", async () => {
    const auth = client()
    server.inject(Fault.Malformed({ body: "<html>oops</html>", contentType: "text/html" }))
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(MalformedTokenResponse)
    const other = client({ maxRetries: 0 })
    server.inject(Fault.Status({ status: 500 }))
    const error = await other.getAccessToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenRequestFailed)
    expect(error).toMatchObject({ status: 500, reason: "Status" })
  })

  it("an aborted caller rejects at once with an AbortError; the shared request goes on", async () => {
    const auth = client()
    server.inject(Fault.Delay({ duration: "300 millis" }), { path: "/api/token" })
    const controller = new AbortController()
    const aborted = auth.getAccessToken({ signal: controller.signal })
    const patient = auth.getAccessToken()
    await server.awaitCount(1, "/api/token")
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" })
    expect(typeof (await patient)).toBe("string")
    expect(server.count("/api/token")).toBe(1)
    const already = new AbortController()
    already.abort(new Error("gave up"))
    await expect(auth.getAccessToken({ signal: already.signal })).rejects.toThrow("gave up")
  })

  it("validates options up front with clear errors", () => {
    const base = { clientId: "c", clientSecret: "s" }
    expect(() => createCairAuthClient({ ...base, clientId: "" })).toThrow(InvalidOptions)
    expect(() => createCairAuthClient({ ...base, baseUrl: "nope" })).toThrow(/baseUrl/)
    expect(() => createCairAuthClient({ ...base, baseUrl: "http://cair.example.com" })).toThrow(/https/)
    expect(() => createCairAuthClient({ ...base, refreshWindowMs: -1 })).toThrow(/refreshWindowMs/)
    expect(() => createCairAuthClient({ ...base, maxRetries: -2 })).toThrow(/maxRetries/)
  })

  it("after close(), calls reject with ClientClosed; close is idempotent and asyncDispose closes", async () => {
    const auth = client()
    await auth.getAccessToken()
    await auth.close()
    await auth.close()
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(ClientClosed)
    const disposable = client()
    await disposable[Symbol.asyncDispose]()
    await expect(disposable.invalidate()).rejects.toBeInstanceOf(ClientClosed)
  })

  it("a pending caller is rejected with ClientClosed when the client closes under it", async () => {
    const auth = client()
    server.inject(Fault.Hang(), { path: "/api/token" })
    const pending = auth.getAccessToken()
    await server.awaitCount(1, "/api/token")
    await auth.close()
    await expect(pending).rejects.toBeInstanceOf(ClientClosed)
  })

  it("two close() at once (a signal handler and a finally): each resolves only once the client is closed", async () => {
    const auth = client()
    server.inject(Fault.Hang(), { path: "/api/token" })
    let settled = false
    const pending = auth.getAccessToken().finally(() => (settled = true))
    await server.awaitCount(1, "/api/token")
    const first = auth.close()
    await auth.close()
    expect(settled).toBe(true)
    await expect(pending).rejects.toBeInstanceOf(ClientClosed)
    await first
  })

  it("an async onEvent that rejects is the observer's problem: no unhandled rejection, tokens go on", async () => {
    const unhandled: Array<unknown> = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on("unhandledRejection", onUnhandled)
    try {
      let calls = 0
      const auth = client({
        onEvent: async () => {
          calls++
          throw new Error("the observer's backend is down")
        }
      })
      const token = await auth.getAccessToken()
      while (calls === 0) await new Promise((resolve) => setImmediate(resolve))
      // Node reports an unhandled rejection once the microtasks of the turn that made it have run.
      await new Promise((resolve) => setImmediate(resolve))
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
      expect(await auth.getAccessToken()).toBe(token)
    } finally {
      process.off("unhandledRejection", onUnhandled)
    }
  })

  it("refreshes in the background and a failing background refresh is reported, never unhandled", async () => {
    const unhandled: Array<unknown> = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on("unhandledRejection", onUnhandled)
    try {
      // The refresh window is the last half of the token's life and it is usable until its last tenth: 3.2 s in
      // which to see the background refresh, enough for a busy machine.
      server.setLifetimes({ accessTokenTtlMs: 8_000 })
      const events: Array<string> = []
      const auth = client({ maxRetries: 0, logLevel: "None", onEvent: (event) => events.push(event._tag) })
      const first = await auth.getAccessToken()
      server.inject(Fault.Status({ status: 503 }), { path: "/api/refresh" })
      // Keep calling until the refresh window opens and a refresh is tried.
      while (server.count("/api/refresh") === 0) {
        expect(await auth.getAccessToken()).toBe(first)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await server.awaitCount(1, "/api/refresh")
      while (!events.includes("Failed")) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unhandled).toEqual([])
    } finally {
      process.off("unhandledRejection", onUnhandled)
    }
  })

  it("works from CommonJS, and the process exits by itself after close()", async () => {
    const packageDir = fileURLToPath(new URL("..", import.meta.url))
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [fileURLToPath(new URL("fixtures/exitsAfterClose.cjs", import.meta.url))],
        {
          cwd: packageDir,
          timeout: 100_000,
          env: {
            ...process.env,
            CAIR_CLIENT_ID: server.credentials.clientId,
            CAIR_CLIENT_SECRET: server.credentials.clientSecret,
            CAIR_BASE_URL: server.url
          }
        },
        (error, stdout) => (error && error.killed ? reject(error) : resolve({ code: child.exitCode, stdout }))
      )
    })
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ status: 200 })
  }, 120_000)
})
