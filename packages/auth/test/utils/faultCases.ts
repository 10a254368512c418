/**
 * The fault matrix: every fault the fake Cair server can inject, what a caller must get, and how many
 * requests it may cost. One table, run by `test/FaultMatrix.test.ts` (Effect API, TestClock) and by
 * `packages/auth-adapters/test/FaultMatrix.test.ts` (Promise adapter, real time), and written out in
 * RELIABILITY.md.
 *
 * A case runs in two phases, each against a fresh server and client:
 *
 * - `cold`: the first token; the fault hits `POST /api/token`.
 * - `refresh`: a token was obtained and has expired (Effect) or was invalidated (adapter); the fault hits
 *   `POST /api/refresh`, which the client now calls with the refresh token.
 */
import { FakeCairServer } from "@cair/auth-testing"

const { Fault } = FakeCairServer

export type Phase = "cold" | "refresh"

export const phasePath = (phase: Phase): string => phase === "cold" ? "/api/token" : "/api/refresh"

export interface CaseContext {
  readonly phase: Phase
  /** The server's clock when the phase starts, in epoch milliseconds (for `Retry-After` dates). */
  readonly serverNow: number
  /** How many attempts one retry cycle makes: `1 + maxRetries`. */
  readonly attempts: number
}

export interface Injection {
  readonly fault: FakeCairServer.Fault
  readonly path?: string
  readonly times?: number
}

export type Outcome =
  | {
    readonly _tag: "Token"
    readonly source: "credentials" | "refresh"
    /** The token set has fixed dates (not the server's 10 minutes from now). */
    readonly fixedExpiry?: boolean
    /** A warning the client must log (Effect suite). */
    readonly warns?: RegExp
  }
  | {
    readonly _tag: "TokenRequestFailed"
    readonly reason: "Status" | "Transport" | "Timeout" | "ExpiredOnArrival"
    readonly status?: number
    /** A warning the client must log (Effect suite). */
    readonly warns?: RegExp
    /**
     * The paths of the next cycle, after the rest (Effect suite): a token set expired on arrival leaves its
     * refresh token for it, while that is valid.
     */
    readonly next?: ReadonlyArray<string>
    /** Whether the error carries the server's `Retry-After`. */
    readonly retryAfter?: boolean
    /** What the message must say about the cause. */
    readonly cause: RegExp
  }
  | { readonly _tag: "MalformedTokenResponse"; readonly problems: ReadonlyArray<string> }
  | { readonly _tag: "InvalidCredentials"; readonly status: number }

/** One failed attempt of a retry cycle, for the TestClock timeline: does it hang, does it ask to wait? */
export interface FailedAttempt {
  readonly hang?: boolean
  /** The `Retry-After` of the answer, in ms, given when (ms after the phase start) the answer came. */
  readonly retryAfterMs?: (answeredAt: number) => number
}

export interface FaultCase {
  readonly name: string
  readonly phases: ReadonlyArray<Phase>
  /** Options of the fake server for this case. */
  readonly server?: { readonly clockOffsetMs: number }
  readonly inject: (context: CaseContext) => ReadonlyArray<Injection>
  readonly outcome: (phase: Phase) => Outcome
  /** The paths requested in the phase, in order. */
  readonly requests: (phase: Phase, attempts: number) => ReadonlyArray<string>
  /** The failed attempts of the phase's retry cycle, in order (absent: no retry). */
  readonly failedAttempts?: (attempts: number) => ReadonlyArray<FailedAttempt>
  /** How the matrix in RELIABILITY.md states the outcome. */
  readonly summary: string
}

const both: ReadonlyArray<Phase> = ["cold", "refresh"]

const repeat = <A>(value: A, n: number): ReadonlyArray<A> => Array.from({ length: n }, () => value)

/** A fault on every attempt of the cycle: a retried failure, then the typed error. */
const persistent = (
  name: string,
  fault: (context: CaseContext) => FakeCairServer.Fault,
  outcome: Outcome,
  attempt: FailedAttempt = {},
  summary = "retried, then the typed error"
): FaultCase => ({
  name,
  phases: both,
  inject: (context) => [{ fault: fault(context), path: phasePath(context.phase), times: context.attempts }],
  outcome: () => outcome,
  requests: (phase, attempts) => repeat(phasePath(phase), attempts),
  failedAttempts: (attempts) => repeat(attempt, attempts),
  summary
})

/** A fault on the first attempt only: the retry gets the token. */
const blip = (name: string, fault: FakeCairServer.Fault, attempt: FailedAttempt = {}): FaultCase => ({
  name,
  phases: both,
  inject: (context) => [{ fault, path: phasePath(context.phase) }],
  outcome: (phase) => ({ _tag: "Token", source: phase === "cold" ? "credentials" : "refresh" }),
  requests: (phase) => repeat(phasePath(phase), 2),
  failedAttempts: () => [attempt],
  summary: "token on the retry"
})

/** A 2xx answer that is not a token set: never retried. */
const malformed = (name: string, fault: FakeCairServer.Fault, problems: ReadonlyArray<string>): FaultCase => ({
  name,
  phases: both,
  inject: (context) => [{ fault, path: phasePath(context.phase) }],
  outcome: () => ({ _tag: "MalformedTokenResponse", problems }),
  requests: (phase) => [phasePath(phase)],
  summary: `MalformedTokenResponse (${problems.join("; ")})`
})

/** A token set answered normally except for `body`: values shaped like real secrets, so a leak would show. */
const tokenBody = (fields: Record<string, unknown>) =>
  Fault.Malformed({
    body: JSON.stringify({
      accessToken: "fake-at-900-0123456789ab",
      refreshToken: "fake-rt-900-0123456789ab",
      expiresAt: "2099-01-01T00:00:00.000Z",
      refreshTokenExpiresAt: "2099-01-02T00:00:00.000Z",
      ...fields
    })
  })

const statusError = (status: number, cause: RegExp, retryAfter = false): Outcome => ({
  _tag: "TokenRequestFailed",
  reason: "Status",
  status,
  retryAfter,
  cause
})

const serverError = /server error/
const httpDate = (millis: number) => new Date(millis).toUTCString()

/** A `Retry-After` date `ms` after the phase start, seen from an answer `answeredAt` ms after it. */
const untilDate = (ms: number) => (answeredAt: number) => Math.max(0, ms - answeredAt)

export const faultCases: ReadonlyArray<FaultCase> = [
  persistent("500", () => Fault.Status({ status: 500 }), statusError(500, serverError)),
  persistent("502", () => Fault.Status({ status: 502 }), statusError(502, serverError)),
  persistent("503 without Retry-After", () => Fault.Status({ status: 503 }), statusError(503, serverError)),
  persistent(
    "503 with Retry-After: 1 (seconds)",
    () => Fault.Status({ status: 503, retryAfter: "1" }),
    statusError(503, /server asked to wait 1000 ms/, true),
    { retryAfterMs: () => 1_000 },
    "retried 1 s apart (not 100 ms), then the typed error with `retryAfterMs`"
  ),
  persistent(
    "503 with Retry-After: an HTTP date 1 s ahead",
    (context) => Fault.Status({ status: 503, retryAfter: httpDate(context.serverNow + 1_000) }),
    statusError(503, serverError, true),
    { retryAfterMs: untilDate(1_000) },
    "the first retry waits until the date, then the usual backoff; the typed error"
  ),
  {
    ...persistent(
      "503 with Retry-After: an HTTP date, server clock 1 h ahead",
      (context) => Fault.Status({ status: 503, retryAfter: httpDate(context.serverNow + 1_000) }),
      statusError(503, serverError, true),
      { retryAfterMs: untilDate(1_000) },
      "as above: the date is read against the server's `Date`, not the local clock (was: a 1 h wait)"
    ),
    server: { clockOffsetMs: 3_600_000 }
  },
  persistent(
    "429 with Retry-After: 1",
    () => Fault.Status({ status: 429, retryAfter: "1" }),
    statusError(429, /rate limited.*wait 1000 ms/, true),
    { retryAfterMs: () => 1_000 },
    "retried 1 s apart, then the typed error with `retryAfterMs`"
  ),
  persistent("408", () => Fault.Status({ status: 408 }), statusError(408, /timed out waiting for the request/)),
  persistent(
    "HTML error page (502, text/html)",
    () =>
      Fault.Status({
        status: 502,
        body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
        contentType: "text/html"
      }),
    statusError(502, serverError),
    {},
    "retried, then the typed error; the page is not read"
  ),
  persistent(
    "connection reset",
    () => Fault.Reset(),
    { _tag: "TokenRequestFailed", reason: "Transport", cause: /ECONNRESET|socket hang up|other side closed/ }
  ),
  persistent(
    "accepts, never answers",
    () => Fault.Hang(),
    { _tag: "TokenRequestFailed", reason: "Timeout", cause: /no complete answer within \d+ ms/ },
    { hang: true },
    "each attempt times out, retried, then the typed error"
  ),
  persistent(
    "body stops half way",
    () => Fault.Truncated(),
    { _tag: "TokenRequestFailed", reason: "Transport", cause: /aborted|other side closed|terminated|premature close/ }
  ),
  blip("503 once", Fault.Status({ status: 503 })),
  blip("connection reset once", Fault.Reset()),
  blip("never answers, once", Fault.Hang(), { hang: true }),
  malformed("body not JSON", Fault.Malformed({ body: "{\"accessToken\": \"fake-at-900-0123456789ab\", " }), [
    "the body is not JSON"
  ]),
  malformed(
    "HTML page with 200",
    Fault.Malformed({ body: "<!doctype html><title>Sign in</title>", contentType: "text/html" }),
    ["the body is not JSON"]
  ),
  malformed(
    "JSON with a missing field",
    Fault.Malformed({ body: JSON.stringify({ accessToken: "fake-at-900-0123456789ab" }) }),
    ["refreshToken is missing"]
  ),
  malformed("JSON with a wrong type", tokenBody({ accessToken: 42 }), ["accessToken has the wrong type or format"]),
  malformed(
    "JSON nested 30 000 levels deep in a field (60 KB, under the cap)",
    Fault.Malformed({ body: `{"accessToken":${"[".repeat(30_000)}${"]".repeat(30_000)}}` }),
    ["accessToken has the wrong type or format"]
  ),
  malformed("JSON with an invalid date", tokenBody({ expiresAt: "next tuesday" }), [
    "expiresAt has the wrong type or format"
  ]),
  malformed("huge body (1 MiB)", Fault.HugeBody({ bytes: 1024 * 1024 }), ["the body is larger than 65536 bytes"]),
  {
    name: "JSON with extra fields",
    phases: both,
    inject: (context) => [{
      fault: tokenBody({ scope: "eligibility", tokenType: "Bearer", expiresIn: 600 }),
      path: phasePath(context.phase)
    }],
    outcome: (phase) => ({ _tag: "Token", source: phase === "cold" ? "credentials" : "refresh", fixedExpiry: true }),
    requests: (phase) => [phasePath(phase)],
    summary: "token (extra fields ignored)"
  },
  {
    name: "401 on /api/token",
    phases: both,
    inject: (context) => [
      ...(context.phase === "refresh" ? [{ fault: Fault.Status({ status: 401 }), path: "/api/refresh" }] : []),
      { fault: Fault.Status({ status: 401 }), path: "/api/token" }
    ],
    outcome: () => ({ _tag: "InvalidCredentials", status: 401 }),
    requests: (phase) => phase === "cold" ? ["/api/token"] : ["/api/refresh", "/api/token"],
    summary: "InvalidCredentials, never retried (refresh: the refresh token is rejected too, then the credentials)"
  },
  ...[401, 400].map((status): FaultCase => ({
    name: `${status} on /api/refresh`,
    phases: ["refresh"],
    inject: () => [{ fault: Fault.Status({ status }), path: "/api/refresh" }],
    outcome: () => ({ _tag: "Token", source: "credentials" }),
    requests: () => ["/api/refresh", "/api/token"],
    summary: "token from the client credentials (FellBack event), no error"
  })),
  {
    name: "token set already expired on arrival",
    phases: both,
    inject: (context) => [{ fault: Fault.ExpiredTokenSet(), path: phasePath(context.phase) }],
    outcome: () => ({
      _tag: "TokenRequestFailed",
      reason: "ExpiredOnArrival",
      cause: /ExpiredOnArrival: the token set had already expired on arrival .*check this machine's clock/,
      warns: /had expired on arrival/,
      next: ["/api/refresh"]
    }),
    requests: (phase) => [phasePath(phase)],
    summary: "never handed out: `TokenRequestFailed` `ExpiredOnArrival` (a hint at the clocks), a warning, a " +
      "rest (1 s) as after a failure; the next cycle uses that set's refresh token"
  },
  {
    name: "Date header of 1970 (a broken header)",
    phases: both,
    inject: (context) => [{ fault: Fault.DateHeader({ date: httpDate(0) }), path: phasePath(context.phase) }],
    outcome: (phase) => ({
      _tag: "Token",
      source: phase === "cold" ? "credentials" : "refresh",
      warns: /Date header \(1970-01-01T00:00:00.000Z\) is \d+ days behind the local clock, beyond the 24 h/
    }),
    requests: (phase) => [phasePath(phase)],
    summary: "token, its life the shorter one, on the local clock (was: 56 years), with a warning"
  },
  {
    name: "Date header in the year 3000",
    phases: both,
    inject: (context) => [{
      fault: Fault.DateHeader({ date: httpDate(Date.UTC(3000, 0, 1)) }),
      path: phasePath(context.phase)
    }],
    outcome: () => ({
      _tag: "TokenRequestFailed",
      reason: "ExpiredOnArrival",
      cause: /ExpiredOnArrival: the token set had already expired on arrival .*check this machine's clock/,
      warns: /is \d+ days ahead of the local clock, beyond the 24 h/,
      // The refresh token's shorter life is none too: the next cycle uses the credentials.
      next: ["/api/token"]
    }),
    requests: (phase) => [phasePath(phase)],
    summary: "the shorter life is none: expired on arrival, never handed out (`ExpiredOnArrival`), with a " +
      "warning; after the rest the credentials (its refresh token is out of life too)"
  },
  {
    name: "503 with Retry-After: 9000000000000 (285 000 years)",
    phases: both,
    inject: (context) => [{
      fault: Fault.Status({ status: 503, retryAfter: "9000000000000" }),
      path: phasePath(context.phase)
    }],
    outcome: () => statusError(503, /server asked to wait 9000000000000000 ms/, true),
    requests: (phase) => [phasePath(phase)],
    failedAttempts: () => [{ retryAfterMs: () => 9e15 }],
    summary: "the typed error at once (no retry waits that long); a 5-minute rest"
  },
  ...[["ahead of", 3_600_000], ["behind", -3_600_000]].map(([direction, offset]): FaultCase => ({
    name: `Date header 1 h ${direction} the local clock`,
    phases: both,
    server: { clockOffsetMs: offset as number },
    inject: () => [],
    outcome: (phase) => ({ _tag: "Token", source: phase === "cold" ? "credentials" : "refresh" }),
    requests: (phase) => [phasePath(phase)],
    summary: "token, its deadlines corrected to the local clock (at most 1 s early)"
  }))
]
