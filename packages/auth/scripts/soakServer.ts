/**
 * The fake Cair server of the soak, in a process of its own: the soak's heap figures are then the client's alone
 * (the fake server keeps every request and token it issued). Answers `count` with the request counts and
 * `stop` by stopping; tells its parent its URL once it listens.
 */
import { FakeCairServer } from "@cair/auth-testing"

const server = await FakeCairServer.start({
  credentials: { clientId: "soak", clientSecret: process.env.SOAK_CLIENT_SECRET ?? "" },
  accessTokenTtlMs: Number(process.env.SOAK_TTL_MS ?? 600)
})
process.send?.({ url: server.url })
process.on("message", (message) => {
  if (message === "count") {
    process.send?.({ refreshes: server.count("/api/refresh"), tokenRequests: server.count("/api/token") })
  } else if (message === "stop") {
    void server.stop().then(() => process.disconnect())
  }
})
