// An ESM TypeScript app (`"type": "module"`, `moduleResolution: nodenext`): every package through its "import"
// condition, the Effect API (from the package root and from a module's own entry point) and the Promise API.
import { CairAuth, CairAuthError } from "@cair/auth"
import { createCairAuthClient, InvalidCredentials } from "@cair/auth-adapters"
import { FakeCairServer } from "@cair/auth-testing"
import * as CairHttpClient from "@cair/auth/CairHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import assert from "node:assert/strict"

const server = await FakeCairServer.start()
try {
  const options = { ...server.credentials, baseUrl: server.url }

  // Effect: a token from CairAuth, then an API call through CairHttpClient with that token.
  const AuthLive = CairAuth.layer(options).pipe(Layer.provide(FetchHttpClient.layer))
  const ClientLive = CairHttpClient.layer().pipe(
    Layer.provideMerge(AuthLive),
    Layer.provide(FetchHttpClient.layer)
  )
  const eligibility = await Effect.gen(function*() {
    const auth = yield* CairAuth.CairAuth
    const token = yield* auth.accessToken
    assert.ok(Redacted.value(token).length > 0, "an access token")
    const client = yield* CairHttpClient.CairHttpClient
    const response = yield* client.post("/api/eligibility/v1", { body: undefined })
    return yield* HttpClientResponse.schemaBodyJson(Schema.Struct({ eligible: Schema.Boolean }))(response)
  }).pipe(Effect.provide(ClientLive), Effect.runPromise)
  assert.deepEqual(eligibility, { eligible: true })

  // A typed failure, as a value.
  const failure = await Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken).pipe(
    Effect.provide(
      CairAuth.layer({ ...options, clientSecret: "wrong" }).pipe(Layer.provide(FetchHttpClient.layer))
    ),
    Effect.flip,
    Effect.runPromise
  )
  assert.ok(CairAuthError.isCairAuthError(failure) && failure._tag === "InvalidCredentials")

  // Promises.
  const auth = createCairAuthClient({ ...options, logLevel: "None" })
  try {
    assert.match(await auth.getAuthorizationHeader(), /^Bearer \S+$/)
    const response = await auth.fetch("/api/eligibility/v1", { method: "POST", body: "{}" })
    assert.equal(response.status, 200)
  } finally {
    await auth.close()
  }
  const wrong = createCairAuthClient({ ...options, clientSecret: "wrong", logLevel: "None" })
  await assert.rejects(wrong.getAccessToken(), (error) => error instanceof InvalidCredentials)
  await wrong.close()

  assert.equal(server.count("/api/token"), 4)
} finally {
  await server.stop()
}
console.log("esm-nodenext: ok")
