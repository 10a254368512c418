// One heap measurement of `footprint.ts`, copied into a project where one subject is installed from the registry (or
// from a tarball) as a user would install it, and run there:
// `node --expose-gc heapProbe.cjs <subject> <count> <url> [onEvent]` (`onEvent`: the adapter's clients with an observer).
// Makes 200 clients and drops them (the JIT's code for making clients is not per client), one client with a token
// (what a library sets up once is not per client), then `count` more, each with a token from the token server of
// footprint.ts at `url`, and replies over IPC with the heap per additional client.
"use strict"

const clientId = "footprint-client"
const clientSecret = "footprint-secret"
const [subject = "", count = "0", url = "", variant = ""] = process.argv.slice(2)

/** Token requests at once while filling up the clients. */
const batch = 25

/** A token from the plain OAuth 2 endpoint, for a peer wired to get its token by a callback. */
const oauthToken = async () => {
  const response = await fetch(`${url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret })
  })
  return response.json()
}

/** Each makes one client and gets it a token; the result keeps the client (and the token, where it is apart). */
const subjects = {
  "@cair/auth-adapters": async () => {
    const { createCairAuthClient } = require("@cair/auth-adapters")
    // `onEvent`: each client also has an observer of its token events.
    const observer = variant === "onEvent" ? { onEvent: () => {} } : {}
    const client = createCairAuthClient({ clientId, clientSecret, baseUrl: url, logLevel: "None", ...observer })
    await client.getAccessToken()
    return client
  },
  "google-auth-library": async () => {
    const { OAuth2Client } = require("google-auth-library")
    const client = new OAuth2Client()
    client.refreshHandler = async () => {
      const token = await oauthToken()
      return { access_token: token.access_token, expiry_date: Date.now() + token.expires_in * 1000 }
    }
    await client.getAccessToken()
    return client
  },
  "simple-oauth2": async () => {
    const { ClientCredentials } = require("simple-oauth2")
    const client = new ClientCredentials({
      client: { id: clientId, secret: clientSecret },
      auth: { tokenHost: url, tokenPath: "/oauth/token" }
    })
    return { client, token: await client.getToken({}) }
  },
  "openid-client": async () => {
    const openid = require("openid-client")
    const config = new openid.Configuration(
      { issuer: url, token_endpoint: `${url}/oauth/token` },
      clientId,
      clientSecret
    )
    openid.allowInsecureRequests(config)
    return { config, tokens: await openid.clientCredentialsGrant(config) }
  },
  "@azure/identity": async () => {
    const { ClientSecretCredential } = require("@azure/identity")
    // MSAL insists on an https: authority: `url` is the https server of footprint.ts, with a self-signed certificate.
    const credential = new ClientSecretCredential("footprint-tenant", clientId, clientSecret, {
      authorityHost: url,
      disableInstanceDiscovery: true
    })
    await credential.getToken("https://cair.example/.default")
    return credential
  }
}

const heapAfterGc = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

/** Clients made and dropped before measuring: the code the JIT compiles for making them is not per client. */
const warmup = 200

const fill = async (make, clients) => {
  const made = []
  for (let i = 0; i < clients; i += batch) {
    for (const client of await Promise.all(Array.from({ length: Math.min(batch, clients - i) }, make))) {
      made.push(client)
    }
  }
  return made
}

const main = async () => {
  const make = subjects[subject]
  if (make === undefined) throw new Error(`unknown subject: ${subject}`)
  const clients = Number(count)
  for (const client of await fill(make, warmup)) await client.close?.()
  const kept = [await make()]
  const before = await heapAfterGc()
  for (const client of await fill(make, clients)) kept.push(client)
  const after = await heapAfterGc()
  process.send({ bytesPerClient: (after - before) / clients, clients: kept.length - 1 })
  // The clients are not closed one by one (not every peer has a `close`): the parent only needs the figure.
  process.exit(0)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
