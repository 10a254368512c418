import { CairAuthError } from "@cair/auth"
import { describe, expect, it } from "@effect/vitest"
import { cairAuthErrorLine, errorLines } from "../src/internal/errorLines.js"
import { ConfigurationError, exitCodeOf, SharedStoreFailed, UsageError } from "../src/internal/errors.js"
import { ExitCode } from "../src/internal/exitCode.js"

const endpoint = "https://cair.example/api/token"
const failed = (reason: CairAuthError.TokenRequestFailureReason, status?: number) =>
  new CairAuthError.TokenRequestFailed({
    endpoint,
    reason,
    description: "what happened",
    ...(status === undefined ? {} : { status })
  })

describe("error lines", () => {
  it("each failure has its exit code", () => {
    expect(exitCodeOf(new ConfigurationError({ lines: ["x"] }))).toBe(ExitCode.configuration)
    expect(exitCodeOf(new UsageError({ description: "x" }))).toBe(ExitCode.usage)
    expect(exitCodeOf(new CairAuthError.InvalidCredentials({ clientId: "c", status: 401 }))).toBe(
      ExitCode.invalidCredentials
    )
    expect(exitCodeOf(failed("Transport"))).toBe(ExitCode.unavailable)
    expect(exitCodeOf(failed("Status", 503))).toBe(ExitCode.unavailable)
    expect(exitCodeOf(new CairAuthError.MalformedTokenResponse({ endpoint, status: 200, problems: [] }))).toBe(
      ExitCode.unavailable
    )
    expect(exitCodeOf(new SharedStoreFailed({ description: "x" }))).toBe(ExitCode.sharedStore)
    expect(new Set(Object.values(ExitCode)).size).toBe(Object.values(ExitCode).length)
  })

  it("a token failure is its message and a hint", () => {
    expect(cairAuthErrorLine(failed("Transport"))).toBe(
      `Token request to ${endpoint} failed: Transport: what happened (is the server up, and CAIR_BASE_URL ` +
        "(or --base-url) the Cair API's origin?)"
    )
    expect(cairAuthErrorLine(failed("Timeout"))).toMatch(/--timeout SECONDS waits longer\)$/)
    expect(cairAuthErrorLine(failed("Status", 503))).toMatch(/\(HTTP 503\).*try again later\)$/)
    expect(cairAuthErrorLine(failed("Status", 429))).toMatch(/try again later\)$/)
    expect(cairAuthErrorLine(failed("Status", 404))).toMatch(/\(HTTP 404\).*the Cair API's origin\?\)$/)
    expect(cairAuthErrorLine(new CairAuthError.InvalidCredentials({ clientId: "c", status: 401 }))).toMatch(
      /Check CAIR_CLIENT_ID and CAIR_CLIENT_SECRET/
    )
  })

  it("every failure is one line per problem", () => {
    const failures = [
      new ConfigurationError({ lines: ["a", "b"] }),
      new UsageError({ description: "no" }),
      failed("Transport"),
      new CairAuthError.MalformedTokenResponse({ endpoint, status: 200, problems: ["accessToken: is missing"] })
    ]
    for (const failure of failures) {
      for (const line of errorLines(failure)) expect(line).not.toContain("\n")
    }
    expect(errorLines(failures[0]!)).toEqual(["a", "b"])
  })
})
