import { TokenSet } from "@cair/auth"
import { describe, expect, it } from "@effect/vitest"
import * as Redacted from "effect/Redacted"
import { clockSkewMs, describeSkew } from "../src/internal/checkCommand.js"
import { humanDuration } from "../src/internal/duration.js"

const tokens = new TokenSet.TokenSet({
  accessToken: Redacted.make("AT-secret-access-1"),
  refreshToken: Redacted.make("RT-secret-refresh-1"),
  expiresAt: new Date(0),
  refreshTokenExpiresAt: new Date(0)
})

describe("check", () => {
  it("measures the skew against the middle of the round trip, the Date header's second half-way gone", () => {
    // Sent at 10.000 s, answered at 10.200 s; the server said 70 s (it was somewhere in 70.000–70.999).
    expect(clockSkewMs({ tokens, sentAt: 10_000, receivedAt: 10_200, serverDate: 70_000 })).toBe(60_400)
    expect(clockSkewMs({ tokens, sentAt: 10_000, receivedAt: 10_200, serverDate: undefined })).toBeUndefined()
  })

  it("warns about a skew past 30 s only", () => {
    expect(describeSkew(400)).toEqual(["ok", "+0.4 s (from the server's Date header, which has whole seconds)"])
    expect(describeSkew(-5_000)[1]).toMatch(/^-5\.0 s, the server is behind/)
    expect(describeSkew(31_000)[0]).toBe("warn")
    expect(describeSkew(-31_000)[0]).toBe("warn")
    expect(describeSkew(undefined)).toEqual(["--", "unknown (the server sent no Date header)"])
  })

  it("says durations as people do", () => {
    expect(humanDuration(12)).toBe("12 ms")
    expect(humanDuration(42_000)).toBe("42 s")
    expect(humanDuration(600_000)).toBe("10 min")
    expect(humanDuration(86_400_000)).toBe("24 h")
  })
})
