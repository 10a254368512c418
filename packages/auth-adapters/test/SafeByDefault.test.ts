/**
 * Safe by default, through the Promise adapter: `baseUrl` must be `https:` unless the host is loopback (a clear
 * `InvalidOptions` at creation), a token response body is read up to a bound, and nothing is put in a URL.
 */
import { FakeCairServer } from "@cair/auth-testing"
import { afterEach, describe, expect, it } from "vitest"
import { acceptedBaseUrls, refusedBaseUrls } from "../../auth/test/utils/baseUrls.js"
import { credentials } from "../../auth/test/utils/secrets.js"
import { createCairAuthClient, InvalidOptions } from "../src/index.js"
import type { CairAuthClient } from "../src/index.js"

const { Fault } = FakeCairServer

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((close) => close()))
})

/** A `fetch` that records every URL and counts the body bytes its caller actually reads. */
const recordingFetch = () => {
  const urls: Array<string> = []
  const read = { bytes: 0 }
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init)
    urls.push(request.url)
    const response = await globalThis.fetch(request)
    const reader = response.body?.getReader()
    const body = reader === undefined ? null : new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read()
        if (done) return controller.close()
        read.bytes += value.length
        controller.enqueue(value)
      },
      cancel: (reason) => reader.cancel(reason)
    }, { highWaterMark: 0 })
    return new Response(body, { status: response.status, headers: response.headers })
  }
  return { fetch, urls, read }
}

const start = async (options: { readonly fetch?: typeof globalThis.fetch } = {}) => {
  const server = await FakeCairServer.start({ credentials })
  const client: CairAuthClient = createCairAuthClient({
    ...credentials,
    baseUrl: server.url,
    maxRetries: 0,
    ...options
  })
  cleanup.push(async () => {
    await client.close()
    await server.stop()
  })
  return { server, client }
}

describe("safe by default (Promise adapter)", () => {
  it("baseUrl: https, or http on a loopback host only; anything else throws InvalidOptions saying why", async () => {
    for (const baseUrl of acceptedBaseUrls) {
      const client = createCairAuthClient({ ...credentials, baseUrl })
      await client.close()
    }
    for (const [baseUrl, says] of refusedBaseUrls) {
      const error = (() => {
        try {
          createCairAuthClient({ ...credentials, baseUrl })
        } catch (error) {
          return error
        }
        return expect.fail(`accepted ${baseUrl}`)
      })()
      expect(error).toBeInstanceOf(InvalidOptions)
      expect(error).toMatchObject({ option: "baseUrl" })
      expect((error as InvalidOptions).message).toMatch(says)
    }
  })

  it("a token response body is read up to 64 KiB and no further", async () => {
    const recording = recordingFetch()
    const { client, server } = await start({ fetch: recording.fetch })
    server.inject(Fault.HugeBody({ bytes: 8 * 1024 * 1024 }))
    await expect(client.getAccessToken()).rejects.toMatchObject({
      _tag: "MalformedTokenResponse",
      problems: ["the body is larger than 65536 bytes"]
    })
    expect(recording.read.bytes).toBeGreaterThan(64 * 1024)
    expect(recording.read.bytes).toBeLessThan(256 * 1024)
  })

  it("nothing is put in a URL: the credentials and refresh tokens travel in the POST body", async () => {
    const recording = recordingFetch()
    const { client, server } = await start({ fetch: recording.fetch })
    await client.getAccessToken()
    await client.invalidate()
    await client.getAccessToken()
    expect(recording.urls.map((url) => new URL(url).pathname)).toEqual(["/api/token", "/api/refresh"])
    for (const url of recording.urls) {
      expect(new URL(url).search).toBe("")
      expect(url).not.toMatch(/S3CRET|fake-rt-|fake-at-|secret|token=/i)
    }
    expect(server.requests()[1]?.refreshToken).toMatch(/^fake-rt-/)
  })
})
