/**
 * The app's own service: asks the Cair API whether a member is eligible. It needs the authenticated
 * `CairHttpClient` and knows nothing about tokens: the bearer header, the cache and the retry after a
 * 401 are the client's business.
 */
import { CairHttpClient } from "@cair/auth"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** The answer of `POST /api/eligibility/v1`. */
export class EligibilityResult extends Schema.Class<EligibilityResult>("EligibilityResult")({
  memberId: Schema.String,
  eligible: Schema.Boolean
}) {}

export class Eligibility extends Effect.Service<Eligibility>()("@cair/example-effect-app/Eligibility", {
  effect: Effect.gen(function*() {
    // A non-2xx answer (after the client's one retry on 401) becomes a ResponseError.
    const client = HttpClient.filterStatusOk(yield* CairHttpClient.CairHttpClient)

    const check = (memberId: string) =>
      client.post("/api/eligibility/v1", { body: HttpBody.unsafeJson({ memberId }) }).pipe(
        Effect.flatMap(HttpClientResponse.schemaBodyJson(EligibilityResult)),
        Effect.withSpan("Eligibility.check", { attributes: { memberId } })
      )

    return { check } as const
  })
}) {}
