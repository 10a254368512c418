import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { CairAuthError, TokenScope } from "../src/index.js"
import { acceptedPaths, refusedPaths, refusedUrls } from "./utils/pathTricks.js"

const base = "http://127.0.0.1:4010"
const other = "127.0.0.1:4011"
const scope = Either.getOrThrow(TokenScope.make(base))

const refusal = (result: Either.Either<URL, CairAuthError.UnsafeRequestUrl>) =>
  Either.isLeft(result) ? { reason: result.left.reason, origin: result.left.origin } : result.right.href

describe("TokenScope", () => {
  it("refuses every relative input that could name another place, saying why and never repeating the input", () => {
    for (const [input, reason] of refusedPaths(other)) {
      const result = scope.resolve(input)
      expect(refusal(result), JSON.stringify(input)).toEqual({ reason, origin: undefined })
      if (Either.isLeft(result)) {
        expect(result.left).toBeInstanceOf(CairAuthError.UnsafeRequestUrl)
        expect(result.left.message).toContain(`only URLs under ${base} get it`)
        expect(result.left.message).not.toContain(other)
      }
    }
  })

  it("refuses absolute URLs of another origin, with a user name, or hiding a separator; names the other origin", () => {
    for (const [input, reason, origin] of refusedUrls(base, other)) {
      expect(refusal(scope.resolve(input)), input).toEqual({
        reason,
        origin: reason === "OtherOrigin" ? origin ?? expect.any(String) : undefined
      })
    }
    expect(refusal(scope.resolve(new URL(`http://${other}/x`)))).toEqual({
      reason: "OtherOrigin",
      origin: `http://${other}`
    })
    const error = Either.flip(scope.resolve(`http://${other}/x`)).pipe(Either.getOrThrow)
    expect(error.message).toBe(
      `Refusing to send the Cair token: the URL has another origin (http://${other}); only URLs under ${base} get it`
    )
  })

  it("accepts paths and URLs under the base URL, whatever the query or fragment", () => {
    for (const [input, path] of acceptedPaths) {
      const url = Either.getOrThrow(scope.resolve(input))
      expect([url.origin, url.pathname], input).toEqual([base, path])
    }
    expect(Either.getOrThrow(scope.resolve(`${base}/api/x?y=1`)).href).toBe(`${base}/api/x?y=1`)
    expect(Either.getOrThrow(scope.resolve(new URL(`${base}/api/x`))).href).toBe(`${base}/api/x`)
    expect(Either.getOrThrow(scope.resolve("HTTP://127.0.0.1:4010/x")).href).toBe(`${base}/x`)
    expect(Either.getOrThrow(scope.resolve("")).href).toBe(`${base}/`)
  })

  it("a base URL with a path: relative inputs go below it, absolute ones must stay under it", () => {
    const api = Either.getOrThrow(TokenScope.make(`${base}/gateway/`))
    expect(api.baseUrl).toBe(`${base}/gateway`)
    expect(Either.getOrThrow(api.resolve("/v1/x")).href).toBe(`${base}/gateway/v1/x`)
    expect(Either.getOrThrow(api.resolve("v1/x")).href).toBe(`${base}/gateway/v1/x`)
    expect(Either.getOrThrow(api.resolve(`${base}/gateway`)).href).toBe(`${base}/gateway`)
    expect(Either.getOrThrow(api.resolve(`${base}/gateway/v1`)).href).toBe(`${base}/gateway/v1`)
    const refused: ReadonlyArray<readonly [string, CairAuthError.UnsafeRequestUrlReason]> = [
      ["/../admin", "DotSegment"],
      ["/%2e%2e/admin", "DotSegment"],
      ["/..%2Fadmin", "EncodedSeparator"],
      [`${base}/gateway/../admin`, "OutsideBasePath"],
      [`${base}/gateway/%2e%2e/admin`, "OutsideBasePath"],
      [`${base}/gatewayx/v1`, "OutsideBasePath"],
      [`${base}/admin`, "OutsideBasePath"],
      [`${base}/`, "OutsideBasePath"],
      [`${base}/gateway/..%2F..%2Fadmin`, "EncodedSeparator"]
    ]
    for (const [input, reason] of refused) {
      expect(refusal(api.resolve(input)), input).toEqual({ reason, origin: undefined })
    }
  })

  it("allows: the check for a redirect's target", () => {
    expect(scope.allows(`${base}/api/eligibility/v1`)).toBe(true)
    expect(scope.allows(new URL(`${base}/`))).toBe(true)
    expect(scope.allows(`http://${other}/api/eligibility/v1`)).toBe(false)
    expect(scope.allows(`${base}/%2F%2F${other}`)).toBe(false)
    expect(scope.allows("/api/eligibility/v1")).toBe(false) // not absolute: not a URL a request can go to
    expect(scope.allows("not a url")).toBe(false)
  })

  it("make checks the base URL as the baseUrl option is checked", () => {
    expect(Either.isLeft(TokenScope.make("http://cair.example"))).toBe(true)
    expect(Either.isLeft(TokenScope.make("nope"))).toBe(true)
  })
})
