/**
 * A small app service on the Cair API: whether a member is eligible. Its failures, whatever their
 * cause (no token, the API down, an answer it cannot read), become the app's own
 * `EligibilityUnavailable`.
 */
import { CairAuth, CairHttpClient } from "@cair/auth"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

export class EligibilityUnavailable extends Schema.TaggedError<EligibilityUnavailable>()("EligibilityUnavailable", {
  memberId: Schema.String,
  /** The `_tag` of the underlying failure, e.g. `TokenRequestFailed` or `ResponseError`. */
  reason: Schema.String
}) {}

const Answer = Schema.Struct({ eligible: Schema.Boolean })

export class Eligibility extends Effect.Service<Eligibility>()("@cair/example-test-layer-swap/Eligibility", {
  effect: Effect.gen(function*() {
    const client = HttpClient.filterStatusOk(yield* CairHttpClient.CairHttpClient)

    const check = (memberId: string): Effect.Effect<boolean, EligibilityUnavailable> =>
      client.post("/api/eligibility/v1", { body: HttpBody.unsafeJson({ memberId }) }).pipe(
        Effect.flatMap(HttpClientResponse.schemaBodyJson(Answer)),
        Effect.map((answer) => answer.eligible),
        Effect.mapError((error) => new EligibilityUnavailable({ memberId, reason: error._tag }))
      )

    return { check } as const
  })
}) {}

/** The production wiring: the real `CairAuth` from CAIR_* config, on `fetch`. The tests swap it. */
export const EligibilityLive = Eligibility.Default.pipe(
  Layer.provide(CairHttpClient.layer()),
  Layer.provide(CairAuth.layerConfig),
  Layer.provide(FetchHttpClient.layer)
)
