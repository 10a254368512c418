/**
 * The table of request inputs that must not get the token (with the reason `TokenScope` gives) and of those that
 * must, shared by the unit tests of the rule and the tests over real HTTP through both APIs. `other` is the
 * `host:port` of "another host": a trick that worked would reach it.
 */
import type { CairAuthError } from "../../src/index.js"

type Reason = CairAuthError.UnsafeRequestUrlReason

/** Relative inputs that would leave the base URL, against a base URL without a path. */
export const refusedPaths = (other: string): ReadonlyArray<readonly [input: string, reason: Reason]> => [
  [`//${other}/api/eligibility/v1`, "NetworkPath"],
  [`///${other}/api/eligibility/v1`, "NetworkPath"],
  [`/\\${other}/api/eligibility/v1`, "Backslash"],
  [`\\\\${other}/api/eligibility/v1`, "Backslash"],
  [`\\/${other}/api/eligibility/v1`, "Backslash"],
  [`/api\\..\\..\\x`, "Backslash"],
  [`/\t/${other}/api/eligibility/v1`, "ControlCharacter"],
  [`/\n/${other}/api/eligibility/v1`, "ControlCharacter"],
  [`/\r\n/${other}/api/eligibility/v1`, "ControlCharacter"],
  [`\t//${other}/api/eligibility/v1`, "ControlCharacter"],
  [`/api/eligibility/v1\u0000`, "ControlCharacter"],
  [`/api/eligibility\u007f/v1`, "ControlCharacter"],
  [`/api/eligibility\u0085/v1`, "ControlCharacter"],
  [`/%2F${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/%2f%2f${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/%5C%5C${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/%252F%252F${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/api/..%2F..%2Fadmin`, "EncodedSeparator"],
  [`/\uff0f\uff0f${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/%EF%BC%8F%EF%BC%8F${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/\u2215\u2215${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/\uff3c\uff3c${other}/api/eligibility/v1`, "EncodedSeparator"],
  [`/api/%0d%0aX-Injected:%201`, "ControlCharacter"],
  [`/api/eligibility/../../v1`, "DotSegment"],
  [`/../api/eligibility/v1`, "DotSegment"],
  [`/./api/eligibility/v1`, "DotSegment"],
  [`/api/%2e%2e/eligibility/v1`, "DotSegment"],
  [`/api/.%2E/eligibility/v1`, "DotSegment"],
  [`/api/%252e%252e/eligibility/v1`, "DotSegment"],
  [`/api/\uff0e\uff0e/eligibility/v1`, "DotSegment"],
  [`/api/%EF%BC%8E%EF%BC%8E/eligibility/v1`, "DotSegment"],
  [`/api/..`, "DotSegment"]
]

/** Absolute URLs that are not under `base` (an origin without a path). */
export const refusedUrls = (
  base: string,
  other: string
): ReadonlyArray<readonly [input: string, reason: Reason, origin?: string]> => {
  const { host, protocol } = new URL(base)
  return [
    [`http://${other}/api/eligibility/v1`, "OtherOrigin", `http://${other}`],
    [`http:${"//"}${other}/api/eligibility/v1`, "OtherOrigin", `http://${other}`],
    [`https://${host}/api/eligibility/v1`, "OtherOrigin", `https://${host}`],
    [`${protocol}//localhost:${new URL(base).port}/api/eligibility/v1`, "OtherOrigin"],
    [`${protocol}//user:password@${host}/api/eligibility/v1`, "UserInfo"],
    [`${base}/%2F%2F${other}/api/eligibility/v1`, "EncodedSeparator"],
    [`${base}/api/%252F/eligibility/v1`, "EncodedSeparator"],
    ["javascript:alert(1)", "OtherOrigin", "javascript:"],
    ["data:text/plain,x", "OtherOrigin", "data:"],
    ["http://[::1", "NotAUrl"]
  ]
}

/** Inputs that stay under a base URL without a path, and the path they name. */
export const acceptedPaths: ReadonlyArray<readonly [input: string, path: string]> = [
  ["/api/eligibility/v1", "/api/eligibility/v1"],
  ["api/eligibility/v1", "/api/eligibility/v1"],
  ["/api/eligibility/v1?next=//elsewhere.example/x&back=\\", "/api/eligibility/v1"],
  ["/api/eligibility/v1#//elsewhere.example", "/api/eligibility/v1"],
  ["/api/members//elsewhere.example/x", "/api/members//elsewhere.example/x"],
  ["/api/members/m%201001", "/api/members/m%201001"],
  ["/api/members/caf%C3%A9", "/api/members/caf%C3%A9"],
  ["/api/members/José", "/api/members/Jos%C3%A9"],
  ["/api/members/a.b..c", "/api/members/a.b..c"],
  ["/api/members/...", "/api/members/..."],
  ["/api/eligibility/v1/", "/api/eligibility/v1/"]
]
