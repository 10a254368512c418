import { describe, expect, it } from "@effect/vitest"
import * as RedisServer from "../src/RedisServer.js"

describe("RedisServer", () => {
  it("starts on a free loopback port, freezes, resumes, restarts on the same port and stops", async () => {
    const redis = await RedisServer.start({ startTimeoutMs: 60_000 })
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
      expect(await redis.ping()).toBe(true)
      redis.pause()
      expect(await redis.ping(300)).toBe(false)
      redis.resume()
      expect(await redis.ping(10_000)).toBe(true)
      const before = redis.pid()
      await redis.restart()
      expect(redis.pid()).not.toBe(before)
      expect(await redis.ping()).toBe(true)
    } finally {
      await redis.stop()
    }
    expect(await redis.ping(300)).toBe(false)
  }, 120_000)
})
