// An app built by a bundler (`moduleResolution: bundler`, bundled by esbuild): the "import" condition, the ESM build
// and `sideEffects: false` as a bundler sees them.
import { CairAuth, CairAuthTest } from "@cair/auth"
import { createCairAuthClient } from "@cair/auth-adapters"
import { FakeCairServer } from "@cair/auth-testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import assert from "node:assert/strict"

const main = Effect.gen(function*() {
  const server = yield* FakeCairServer.FakeCairServer
  const auth = yield* CairAuth.CairAuth
  const token = yield* auth.accessToken
  assert.ok(Redacted.value(token).length > 0, "an access token")
  assert.equal(yield* server.count("/api/token"), 1)
  return server
})

const program = Effect.gen(function*() {
  // The server's Layer is built first; CairAuth's options come from it.
  const server = yield* FakeCairServer.FakeCairServer
  const AuthLive = CairAuth.layer({ ...server.credentials, baseUrl: server.url }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )
  yield* Effect.provide(main, AuthLive)

  const client = createCairAuthClient({ ...server.credentials, baseUrl: server.url, logLevel: "None" })
  const header = yield* Effect.promise(() => client.getAuthorizationHeader())
  assert.match(header, /^Bearer \S+$/)
  yield* Effect.promise(() => client.close())

  // The test layers need no server.
  const calls = yield* Effect.provide(
    Effect.zipRight(Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken), CairAuthTest.calls),
    CairAuthTest.layerFixed("test-token")
  )
  assert.equal(calls.length, 1)
})

Effect.runPromise(Effect.provide(program, FakeCairServer.layer())).then(
  () => console.log("bundler: ok"),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
