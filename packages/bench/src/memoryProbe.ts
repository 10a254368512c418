/**
 * One memory measurement in a fresh process (forked by `benchmarks/Memory.ts`), so that no other subject's
 * garbage, sockets or JIT state is in the heap:
 * `node --expose-gc memoryProbe.ts <what> <count> <url> <clientId> <secret>`, `count` clients or reads.
 * Replies over IPC with the heap in bytes: per client, or the growth across the reads.
 */
import * as CairAuth from "@cair/auth/CairAuth"
import * as Effect from "effect/Effect"
import { heapAfterGc } from "./Report.js"
import * as Subjects from "./Subjects.js"

/** Token requests at once while filling up the clients. */
const batch = 25

interface Made {
  readonly client: unknown
  readonly close?: () => Promise<void>
}

const [what = "", count = "0", url = "", clientId = "", clientSecret = ""] = process.argv.slice(2)
const clients = Number(count)
const reads = Number(count)
const server: Subjects.Endpoint = { url, clientId, clientSecret }

const kinds: Record<string, () => Promise<Made>> = {
  /** A token request, and nothing kept: what a request leaves in the heap for a while, client or not. */
  "fetch": async () => {
    await Subjects.fetchToken(server)
    return { client: undefined }
  },
  "adapter": async () => {
    const client = Subjects.adapter(server)
    await client.getAccessToken()
    return { client, close: () => client.close() }
  },
  "effect": async () => {
    const runtime = Subjects.effectRuntime(server)
    await runtime.runPromise(Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken))
    return { client: runtime, close: () => runtime.dispose() }
  },
  "google": async () => {
    const client = Subjects.googleRefreshHandler(server)
    await client.getAccessToken()
    return { client }
  },
  "google-sub": async () => {
    const client = new Subjects.GoogleSubclass(server)
    await client.getAccessToken()
    return { client }
  },
  "aws": async () => {
    const client = Subjects.awsMemoize(server)
    await client()
    return { client }
  },
  "azure": async () => {
    const client = Subjects.azure(server)
    await client.send()
    return { client }
  }
}

/** Clients made and dropped before measuring: the code the JIT compiles for making them is not per client. */
const warmup = 200

const fill = async (make: () => Promise<Made>, count: number): Promise<Array<Made>> => {
  const made: Array<Made> = []
  for (let i = 0; i < count; i += batch) {
    for (const m of await Promise.all(Array.from({ length: Math.min(batch, count - i) }, make))) made.push(m)
  }
  return made
}

const perClient = async (make: () => Promise<Made>): Promise<number> => {
  await Promise.all((await fill(make, warmup)).map((m) => m.close?.()))
  // One client first: whatever a library sets up once (lazy modules, the connection pool) is not per client.
  const first = await make()
  const before = await heapAfterGc()
  const made = await fill(make, clients)
  const after = await heapAfterGc()
  await Promise.all([first, ...made].map((m) => m.close?.()))
  return (after - before) / clients
}

const growth = async (loop: (n: number) => Promise<void>): Promise<number> => {
  await loop(20_000)
  const before = await heapAfterGc()
  await loop(reads)
  return (await heapAfterGc()) - before
}

const adapterGrowth = async () => {
  const client = Subjects.adapter(server)
  await client.getAccessToken()
  try {
    return await growth(async (n) => {
      for (let i = 0; i < n; i++) await client.getAccessToken()
    })
  } finally {
    await client.close()
  }
}

const effectGrowth = async () => {
  const runtime = Subjects.effectRuntime(server)
  try {
    const auth = await runtime.runPromise(CairAuth.CairAuth)
    return await growth((n) =>
      runtime.runPromise(Effect.gen(function*() {
        for (let i = 0; i < n; i++) yield* auth.accessToken
      }))
    )
  } finally {
    await runtime.dispose()
  }
}

const measure = (): Promise<number> => {
  if (what === "adapter-growth") return adapterGrowth()
  if (what === "effect-growth") return effectGrowth()
  const make = kinds[what]
  if (make === undefined) throw new Error(`unknown measurement: ${what}`)
  return perClient(make)
}

process.send?.({ bytes: await measure() })
process.disconnect()
