/**
 * The token endpoints every subject of `footprint` asks, on 127.0.0.1, over http and https (MSAL accepts an https:
 * authority only; the certificate is self-signed, made with openssl for the run):
 *
 * - `POST /api/token`: Cair's (JSON in, `{accessToken, refreshToken, expiresAt, refreshTokenExpiresAt}` out);
 * - `POST /oauth/token` and `POST /<tenant>/oauth2/v2.0/token`: plain OAuth 2 client credentials (form or JSON in,
 *   `{access_token, token_type, expires_in}` out), for the peers;
 * - `GET /<tenant>/v2.0/.well-known/openid-configuration`: the metadata MSAL reads before its first token request.
 *
 * Every token is new and as long as a real one, so that the clients hold what they would hold in production.
 */
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import type { AddressInfo } from "node:net"
import { join } from "node:path"

export interface TokenServer {
  readonly http: string
  readonly https: string
  readonly tokenRequests: () => number
  readonly stop: () => Promise<void>
}

const lifetimeMs = 3_600_000

/** A JWT-sized token: what the clients keep in memory. */
const token = () => randomBytes(600).toString("base64url")

const handle = (count: () => void) => (request: IncomingMessage, response: ServerResponse) => {
  let body = ""
  request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
  request.on("end", () => {
    const host = `https://${request.headers.host}`
    const path = (request.url ?? "").split("?")[0]!
    const json = (value: unknown) =>
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(value))
    const metadata = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path)
    if (request.method === "GET" && metadata !== null) {
      const tenant = metadata[1]!
      return json({
        issuer: `${host}/${tenant}/v2.0`,
        authorization_endpoint: `${host}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${host}/${tenant}/oauth2/v2.0/token`,
        end_session_endpoint: `${host}/${tenant}/oauth2/v2.0/logout`,
        jwks_uri: `${host}/${tenant}/discovery/v2.0/keys`
      })
    }
    if (request.method !== "POST") return response.writeHead(404).end()
    count()
    if (path === "/api/token") {
      const now = Date.now()
      return json({
        accessToken: token(),
        refreshToken: token(),
        expiresAt: new Date(now + lifetimeMs).toISOString(),
        refreshTokenExpiresAt: new Date(now + 24 * lifetimeMs).toISOString()
      })
    }
    if (path === "/oauth/token" || /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(path)) {
      return json({ access_token: token(), token_type: "Bearer", expires_in: lifetimeMs / 1000 })
    }
    response.writeHead(404).end()
  })
}

const listen = (server: ReturnType<typeof createHttpServer>): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)))

export const start = async (workDir: string): Promise<TokenServer> => {
  const key = join(workDir, "key.pem")
  const cert = join(workDir, "cert.pem")
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-days",
    "1",
    "-keyout",
    key,
    "-out",
    cert
  ], { stdio: "ignore", timeout: 60_000 })
  let requests = 0
  const handler = handle(() => requests++)
  const plain = createHttpServer(handler)
  const secure = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, handler)
  const [httpPort, httpsPort] = await Promise.all([listen(plain), listen(secure as never)])
  const close = (server: { close: (done: () => void) => void; closeAllConnections: () => void }) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  return {
    http: `http://127.0.0.1:${httpPort}`,
    https: `https://127.0.0.1:${httpsPort}`,
    tokenRequests: () => requests,
    stop: async () => void (await Promise.all([close(plain), close(secure)]))
  }
}
