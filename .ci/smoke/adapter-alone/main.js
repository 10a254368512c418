// @ts-check
// A plain CommonJS Node app that installs @cair/auth-adapters and nothing else: the package must bring all it runs.
// A few lines of node:http stand in for the Cair token endpoint (the fake server of @cair/auth-testing would bring
// Effect into node_modules and hide a missing bundle).
"use strict"
const assert = require("node:assert/strict")
const { createServer } = require("node:http")
const { dirname } = require("node:path")
const { createCairAuthClient, InvalidCredentials, InvalidOptions } = require("@cair/auth-adapters")

const adapterDir = dirname(require.resolve("@cair/auth-adapters/package.json"))
for (const name of ["@cair/auth", "effect", "@effect/platform"]) {
  assert.throws(() => require.resolve(name, { paths: [adapterDir] }), `${name} should not be installed`)
}

async function main() {
  let tokenRequests = 0
  const server = createServer((request, response) => {
    let body = ""
    request.on("data", (chunk) => (body += chunk))
    request.on("end", () => {
      if (request.url !== "/api/token") return response.writeHead(404).end()
      tokenRequests++
      if (JSON.parse(body).clientSecret !== "alone-secret") return response.writeHead(401).end()
      const now = Date.now()
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
        accessToken: `access-${tokenRequests}`,
        refreshToken: `refresh-${tokenRequests}`,
        expiresAt: new Date(now + 600_000).toISOString(),
        refreshTokenExpiresAt: new Date(now + 86_400_000).toISOString()
      }))
    })
  })
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)))
  const address = server.address()
  assert.ok(address !== null && typeof address === "object")
  const baseUrl = `http://127.0.0.1:${address.port}`
  try {
    const auth = createCairAuthClient({ clientId: "alone", clientSecret: "alone-secret", baseUrl, logLevel: "None" })
    assert.equal(await auth.getAccessToken(), "access-1")
    assert.equal(await auth.getAccessToken(), "access-1", "the cached token")
    await auth.close()

    const wrong = createCairAuthClient({ clientId: "alone", clientSecret: "wrong", baseUrl, logLevel: "None" })
    await assert.rejects(wrong.getAccessToken(), (error) => error instanceof InvalidCredentials)
    await wrong.close()
    assert.equal(tokenRequests, 2)

    // redisUrl without @cair/auth-redis installed: every call rejects, naming the package to install; no request.
    const fleet = createCairAuthClient({
      clientId: "alone",
      clientSecret: "alone-secret",
      baseUrl,
      redisUrl: "redis://127.0.0.1:6379",
      logLevel: "None"
    })
    for (let call = 0; call < 2; call++) {
      await assert.rejects(
        fleet.getAccessToken(),
        (error) =>
          error instanceof InvalidOptions && error.option === "redisUrl" &&
          error.message.includes("npm install @cair/auth-redis")
      )
    }
    await fleet.close()
    assert.equal(tokenRequests, 2)
  } finally {
    server.close()
  }
}

main().then(
  () => console.log("adapter-alone: ok"),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
