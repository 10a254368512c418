/**
 * Soak: millions of cached reads of `CairAuth.accessToken` from concurrent fibers, against the fake Cair server
 * (in a process of its own, `soakServer.ts`) over real HTTP with tokens living 600 ms, so a background refresh
 * runs every few hundred milliseconds the whole time.
 *
 * Fails (exit 1) on any error, on heap growth after GC beyond the bound, or on growth of the number of live
 * fibers or open sockets. Prints the figures either way.
 *
 *   pnpm soak                                   # 5 000 000 reads (by hand; see RELIABILITY.md for figures)
 *   pnpm soak --reads 300000 --min-seconds 5    # CI: a small count, still several refreshes
 *
 * Options: --reads N, --min-seconds S (keep reading at least this long), --readers R (concurrent fibers, default
 * 4), --ttl-ms T (access token lifetime, default 600), --heap-bound-mib M (default 4).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Supervisor from "effect/Supervisor"
import { type ChildProcess, fork } from "node:child_process"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import * as CairAuth from "../src/CairAuth.js"

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`)
  const raw = index === -1 ? process.env[`SOAK_${name.toUpperCase().replace(/-/g, "_")}`] : process.argv[index + 1]
  const value = raw === undefined ? fallback : Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0, got ${raw}`)
  return value
}

const totalReads = argument("reads", 5_000_000)
const minSeconds = argument("min-seconds", 5)
const readers = argument("readers", 4)
const ttlMs = argument("ttl-ms", 600)
const heapBoundMiB = argument("heap-bound-mib", 4)
const sampleEveryMs = 250
/** Fewer refreshes than this, and the soak did not test what it says: reads across refreshes. */
const minRefreshes = 2

/** `global.gc`, with or without `--expose-gc`. */
const gc: () => void = typeof globalThis.gc === "function"
  ? globalThis.gc
  : (setFlagsFromString("--expose-gc"), runInNewContext("gc") as () => void)

const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap").length

interface Sample {
  readonly atMs: number
  readonly reads: number
  readonly heapMiB: number
  readonly fibers: number
  readonly sockets: number
  readonly refreshes: number
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100
const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const clientSecret = "S3CRET-soak-41c9"

/** The next message of the server process that has `key`. */
const reply = <A>(child: ChildProcess, key: string): Promise<A> =>
  new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (typeof message === "object" && message !== null && key in message) {
        child.off("message", onMessage)
        child.off("exit", onExit)
        resolve(message as A)
      }
    }
    const onExit = (code: number | null) => reject(new Error(`the fake server process exited (${code})`))
    child.on("message", onMessage)
    child.once("exit", onExit)
  })

interface Counts {
  readonly refreshes: number
  readonly tokenRequests: number
}

/** The fake server in its own process, stopped (and waited for) when the scope closes. */
const serverProcess = Effect.acquireRelease(
  Effect.promise(async () => {
    const child = fork(new URL("./soakServer.ts", import.meta.url), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, SOAK_CLIENT_SECRET: clientSecret, SOAK_TTL_MS: String(ttlMs) }
    })
    const { url } = await reply<{ url: string }>(child, "url")
    const count = Effect.promise(() => {
      const counts = reply<Counts>(child, "refreshes")
      child.send("count")
      return counts
    })
    return { child, url, count }
  }),
  ({ child }) =>
    Effect.promise(() => {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.send("stop")
      return exited
    })
)

const program = Effect.gen(function*() {
  const server = yield* serverProcess
  const context = yield* Layer.build(
    CairAuth.layer({ clientId: "soak", clientSecret, baseUrl: server.url }).pipe(
      Layer.provide(NodeHttpClient.layer)
    )
  )
  const auth = Context.get(context, CairAuth.CairAuth)
  const supervisor = yield* Supervisor.track
  yield* auth.accessToken

  let reads = 0
  const started = performance.now()
  const reader = Effect.gen(function*() {
    while (reads < totalReads || performance.now() - started < minSeconds * 1_000) {
      for (let i = 0; i < 5_000; i++) yield* auth.accessToken
      reads += 5_000
      // A turn of the event loop, so that the refresh's socket makes progress.
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
  })

  const samples: Array<Sample> = []
  const sample = Effect.gen(function*() {
    gc()
    samples.push({
      atMs: Math.round(performance.now() - started),
      reads,
      heapMiB: mib(process.memoryUsage().heapUsed),
      fibers: (yield* supervisor.value).length,
      sockets: sockets(),
      refreshes: (yield* server.count).refreshes
    })
  })
  const fibers = yield* Effect.forEach(Array.from({ length: readers }), () => Effect.fork(reader)).pipe(
    Effect.supervised(supervisor)
  )
  const sampler = yield* Effect.fork(Effect.forever(Effect.zipRight(Effect.sleep(sampleEveryMs), sample)))
  const exits = yield* Effect.forEach(fibers, Fiber.await)
  const seconds = (performance.now() - started) / 1_000
  yield* Fiber.interrupt(sampler)
  // A refresh may be under way: give it a moment (on the real clock) to end, then nothing may be left.
  for (let i = 0; i < 100 && (yield* supervisor.value).length > 0; i++) yield* Effect.sleep(20)
  yield* sample
  return { exits, samples, seconds, reads, tokenRequests: (yield* server.count).tokenRequests }
})

const { exits, reads, samples, seconds, tokenRequests } = await Effect.runPromise(Effect.scoped(program))

// The first second warms up (JIT, the first socket): the baseline is what follows.
const steady = samples.filter((sample) => sample.atMs >= 1_000)
if (steady.length < 6) {
  throw new Error(`the soak ran too short for a verdict (${samples.length} samples): raise --min-seconds`)
}
const first = steady.slice(0, 3)
const last = steady.slice(-3)
const heapGrowth = Math.round((median(last.map((s) => s.heapMiB)) - median(first.map((s) => s.heapMiB))) * 100) / 100
// Live fibers: the readers, plus those of a refresh while one runs (the flight, the HTTP client's). Growth would
// show as a rising floor: compare the least seen in the first and the last third of the run.
const third = Math.max(1, Math.floor(steady.length / 3))
const fibersFloorStart = Math.min(...steady.slice(0, third).map((s) => s.fibers))
const fibersFloorEnd = Math.min(...steady.slice(-third - 1, -1).map((s) => s.fibers))
const fibersMax = Math.max(...steady.map((s) => s.fibers))
const fibersEnd = samples[samples.length - 1]!.fibers
const socketsMax = Math.max(...steady.map((s) => s.sockets))
const refreshes = samples[samples.length - 1]!.refreshes
const errors = exits.filter((exit) => exit._tag === "Failure")

const figures = {
  reads,
  seconds: Math.round(seconds * 10) / 10,
  readsPerSecond: Math.round(reads / seconds),
  readers,
  tokenTtlMs: ttlMs,
  refreshes,
  refreshEveryMs: Math.round((seconds * 1_000) / Math.max(1, refreshes)),
  tokenRequests,
  errors: errors.length,
  heapMiB: {
    baseline: median(first.map((s) => s.heapMiB)),
    end: median(last.map((s) => s.heapMiB)),
    growth: heapGrowth
  },
  fibers: {
    floorFirstThird: fibersFloorStart,
    floorLastThird: fibersFloorEnd,
    max: fibersMax,
    afterTheReaders: fibersEnd
  },
  socketsMax,
  // The heap after GC at ten points of the run: flat, or a rise that stops, is no leak.
  heapTrendMiB: Array.from({ length: 10 }, (_, i) => steady[Math.floor((i * (steady.length - 1)) / 9)]!.heapMiB)
}
console.log(JSON.stringify(figures, null, 2))

const failures = [
  ...errors.map((exit) => `a reader failed: ${String(exit)}`),
  ...(heapGrowth > heapBoundMiB ? [`the heap grew by ${heapGrowth} MiB after GC (bound ${heapBoundMiB} MiB)`] : []),
  ...(fibersFloorEnd > fibersFloorStart
    ? [`the floor of live fibers rose from ${fibersFloorStart} to ${fibersFloorEnd}`]
    : []),
  ...(fibersMax > readers + 10 ? [`up to ${fibersMax} live fibers (${readers} readers and one refresh's)`] : []),
  ...(fibersEnd > 0 ? [`${fibersEnd} fibers still running after the readers ended`] : []),
  ...(socketsMax > 2 ? [`up to ${socketsMax} sockets open (expected one keep-alive connection)`] : []),
  // A floor, not a rate: on a busy machine a token request can outlast a 600 ms token, and the rest after a token
  // that expired on arrival is time without refreshes. What must not happen is a soak that never refreshed.
  ...(refreshes < minRefreshes
    ? [`only ${refreshes} refreshes in ${seconds} s (at least ${minRefreshes} expected)`]
    : [])
]
if (failures.length > 0) {
  console.error(`soak FAILED:\n- ${failures.join("\n- ")}`)
  process.exit(1)
}
console.log(
  `soak passed: ${reads} reads in ${figures.seconds} s, ${refreshes} refreshes (every ~${figures.refreshEveryMs} ms), ` +
    `no error, heap ${
      heapGrowth >= 0 ? "+" : ""
    }${heapGrowth} MiB after GC, live fibers at most ${fibersMax}, none left`
)
