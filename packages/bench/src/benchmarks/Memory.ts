/**
 * 5. Memory: heap per client (`clients` clients, each holding a token: `heapUsed` after full collections, less
 * the heap with one client, after a warm-up of 200 clients made and dropped), and the heap growth across a million cached reads. Each measurement runs in a
 * fresh process (`memoryProbe.ts`). Every client made one token request: the first row is what a token request
 * alone leaves in the heap (undici's connection pool and caches), the floor under every other row.
 */
import { fork } from "node:child_process"
import type { FakeServer } from "../FakeServer.js"
import { bytes, met, peers, type Row } from "../Report.js"

const clients = 1_000
const reads = 1_000_000

const probe = (server: FakeServer, what: string, count: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = fork(
      new URL("../memoryProbe.ts", import.meta.url),
      [what, String(count), server.url, server.clientId, server.clientSecret],
      { execArgv: ["--expose-gc", "--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }
    )
    let bytes: number | undefined
    child.on("message", (message: { readonly bytes: number }) => (bytes = message.bytes))
    child.once("error", reject)
    child.once("exit", (code) =>
      bytes === undefined ? reject(new Error(`memory probe ${what} exited with ${code}`)) : resolve(bytes))
  })

export const run = async (server: FakeServer): Promise<ReadonlyArray<Row>> => {
  const perClient: Record<string, number> = {}
  for (const kind of ["fetch", "adapter", "effect", ...peers]) {
    await server.resetLog()
    perClient[kind] = await probe(server, kind, clients)
  }
  const adapterGrowth = await probe(server, "adapter-growth", reads)
  const effectGrowth = await probe(server, "effect-growth", reads)
  await server.resetLog()

  const bench = "5 memory"
  const row = (name: string, subject: string, ours: boolean, target?: string): Row => ({
    bench,
    subject,
    result: `${bytes(perClient[name]!)} per client`,
    vs: ours ? Object.fromEntries(peers.map((peer) => [peer, perClient[name]! / perClient[peer]!])) : undefined,
    target
  })
  return [
    { bench, subject: "one token request, nothing kept (floor)", result: `${bytes(perClient["fetch"]!)} per request` },
    row(
      "adapter",
      `adapter client with a token (${clients} clients)`,
      true,
      met(perClient["adapter"]! <= 16 * 1024, "≤ 16 KiB per client")
    ),
    row("effect", "CairAuth in a ManagedRuntime, with a token", true),
    row("google", "google OAuth2Client + refreshHandler", false),
    row("google-sub", "google OAuth2Client subclass", false),
    row("aws", "aws memoize(provider)", false),
    row("azure", "azure pipeline + bearer policy", false),
    { bench, subject: "adapter, heap growth over 1M cached reads", result: bytes(adapterGrowth) },
    { bench, subject: "CairAuth.accessToken, heap growth over 1M reads in one fiber", result: bytes(effectGrowth) }
  ]
}
