"use strict"
// A plain CommonJS service calling the Cair Health API: no TypeScript, no Effect.
//
// With CAIR_CLIENT_ID and CAIR_CLIENT_SECRET (and optionally CAIR_BASE_URL) set, it talks to that
// API; without them it starts the fake Cair server on 127.0.0.1 and talks to it.
const { createCairAuthClient, formatError } = require("@cair/auth-adapters")

/** Asks the API whether a member is eligible. `auth.fetch` adds the bearer token and retries a 401 once. */
async function checkEligibility(auth, memberId) {
  const response = await auth.fetch("/api/eligibility/v1", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ memberId })
  })
  if (!response.ok) throw new Error(`Eligibility check failed: HTTP ${response.status}`)
  return response.json()
}

async function connect() {
  const { CAIR_BASE_URL, CAIR_CLIENT_ID, CAIR_CLIENT_SECRET } = process.env
  if (CAIR_CLIENT_ID && CAIR_CLIENT_SECRET) {
    return { options: { clientId: CAIR_CLIENT_ID, clientSecret: CAIR_CLIENT_SECRET, baseUrl: CAIR_BASE_URL } }
  }
  const { FakeCairServer } = require("@cair/auth-testing")
  const server = await FakeCairServer.start()
  return { options: { ...server.credentials, baseUrl: server.url }, server }
}

async function main() {
  const { options, server } = await connect()
  const auth = createCairAuthClient(options)
  try {
    const token = await auth.getAccessToken()
    console.log(`token acquired (${token.length} characters)`)
    for (const memberId of ["m-1001", "m-1002", "m-1003"]) {
      const result = await checkEligibility(auth, memberId)
      console.log(`member ${memberId}: eligible=${result.eligible}`)
    }
    if (server) console.log(`token requests made: ${server.count("/api/token")}`)
  } finally {
    await auth.close()
    if (server) await server.stop()
  }
}

// One line, with what to check (the stack trace with --verbose), and exit status 1.
main().catch((error) => {
  console.error(process.argv.includes("--verbose") ? error : formatError(error))
  process.exitCode = 1
})
