/**
 * The demo program: one Effect program through the authenticated client. Against the fake server
 * it also shows the faults it can survive; against the real API it only reads.
 */
import { CairAuth, CairHttpClient } from "@cair/auth"
import { FakeCairServer } from "@cair/auth-testing"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Timeline } from "./Timeline.js"

const Eligibility = Schema.Struct({ eligible: Schema.Boolean })

/** One call to a protected endpoint, with whatever token the client holds. */
const checkEligibility = (memberId: string) =>
  Effect.gen(function*() {
    const client = yield* CairHttpClient.CairHttpClient
    const timeline = yield* Timeline
    const response = yield* client.execute(
      HttpClientRequest.post("/api/eligibility/v1").pipe(HttpClientRequest.bodyUnsafeJson({ memberId }))
    )
    if (response.status !== 200) {
      yield* timeline.note(`POST /api/eligibility/v1 for ${memberId} -> HTTP ${response.status}`)
      return
    }
    const { eligible } = yield* HttpClientResponse.schemaBodyJson(Eligibility)(response)
    yield* timeline.note(`POST /api/eligibility/v1 for ${memberId} -> 200, eligible: ${eligible}`)
  })

/** The faults only the fake server can stage. */
const faults = (server: FakeCairServer.FakeCairServer.Service) =>
  Effect.gen(function*() {
    const auth = yield* CairAuth.CairAuth
    const timeline = yield* Timeline

    yield* timeline.step("4. Proactive refresh: the token is in its last half; callers are not made to wait")
    const { refreshAt } = yield* auth.get
    yield* Effect.sleep(Math.max(0, refreshAt - (yield* Clock.currentTimeMillis)) + 50)
    const refreshed = yield* Effect.fork(Stream.runHead(Stream.filter(auth.events, (e) => e._tag === "Acquired")))
    yield* Effect.yieldNow()
    const [elapsed, served] = yield* Effect.timed(auth.get)
    yield* timeline.note(
      `a caller got generation ${served.generation} in ${Duration.toMillis(elapsed).toFixed(2)} ms; ` +
        "a refresh runs in the background"
    )
    yield* Fiber.join(refreshed)
    yield* checkEligibility("m-1004")

    yield* timeline.step("5. The server revokes every token: a 401, the refresh token is rejected, fallback")
    yield* server.revokeAll
    yield* timeline.note("server: every access and refresh token revoked")
    yield* checkEligibility("m-1005")

    yield* timeline.step("6. The refresh endpoint answers 503 once: retried with backoff")
    yield* server.inject(FakeCairServer.Fault.Status({ status: 503 }), { path: "/api/refresh" })
    const before = (yield* server.requests).length
    yield* auth.refresh
    const refreshes = (yield* server.requests).slice(before).filter((r) => r.path === "/api/refresh")
    yield* timeline.note(`the server answered /api/refresh with ${refreshes.map((r) => r.status).join(", then ")}`)
    yield* checkEligibility("m-1006")
  })

export const program = (server: Option.Option<FakeCairServer.FakeCairServer.Service>) =>
  Effect.gen(function*() {
    const auth = yield* CairAuth.CairAuth
    const timeline = yield* Timeline
    yield* Effect.forkScoped(Stream.runForEach(auth.events, timeline.event))
    yield* Effect.yieldNow()

    yield* timeline.step("1. First call: no token yet, one is requested with the client credentials")
    yield* checkEligibility("m-1001")

    yield* timeline.step("2. Cached reuse: 100 concurrent calls, no token request")
    yield* Effect.all(Array.from({ length: 100 }, () => auth.accessToken), { concurrency: "unbounded", discard: true })
    yield* checkEligibility("m-1002")

    yield* timeline.step("3. Forced refresh with the (rotating) refresh token")
    yield* auth.refresh
    yield* checkEligibility("m-1003")

    if (Option.isNone(server)) return
    yield* faults(server.value)
    const [token, refresh, api] = yield* Effect.all(
      ["/api/token", "/api/refresh", "/api/eligibility/v1"].map((path) => server.value.count(path))
    )
    yield* timeline.step(
      `Token requests: ${token + refresh} (/api/token: ${token}, /api/refresh: ${refresh}) for ${api} API calls`
    )
  })
