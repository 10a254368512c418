// @ts-check
// A plain CommonJS Node app (`"type": "commonjs"`, no TypeScript, no Effect): `require` gets the CommonJS build, and
// `tsc --checkJs` type-checks this file against the CommonJS declarations.
"use strict"
const assert = require("node:assert/strict")
const { ClientClosed, createCairAuthClient, InvalidCredentials } = require("@cair/auth-adapters")
const { FakeCairServer } = require("@cair/auth-testing")

async function main() {
  const server = await FakeCairServer.start()
  try {
    const options = { ...server.credentials, baseUrl: server.url, logLevel: /** @type {const} */ ("None") }
    const auth = createCairAuthClient(options)
    const token = await auth.getAccessToken()
    assert.ok(token.length > 0, "an access token")
    assert.equal(await auth.getAccessToken(), token, "the cached token")
    const response = await auth.fetch("/api/eligibility/v1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ memberId: "m-1001" })
    })
    assert.deepEqual(await response.json(), { eligible: true, memberId: "m-1001" })
    await auth.close()
    await assert.rejects(auth.getAccessToken(), (error) => error instanceof ClientClosed)

    const wrong = createCairAuthClient({ ...options, clientSecret: "wrong" })
    await assert.rejects(wrong.getAccessToken(), (error) => error instanceof InvalidCredentials)
    await wrong.close()

    assert.equal(server.count("/api/token"), 2)
  } finally {
    await server.stop()
  }
}

main().then(
  () => console.log("cjs-node: ok"),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
