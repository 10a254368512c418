/**
 * 3. Refresh without stalls: callers at a steady rate across token refreshes; latency of one token read in
 * steady state against the second around a refresh (from half a second before a token request starts to half a
 * second after).
 *
 * Every subject gets the same schedule: a refresh `refreshEveryMs` after a token arrives. Tokens live twice that,
 * and the refresh window is half their life (ours `refreshWindowMs`, capped at half the lifetime anyway; Google
 * `eagerRefreshThresholdMillis`; AWS the `isExpired` window). Azure's token cycler refreshes 2 minutes
 * before expiry and cannot be told otherwise: its tokens live 2 minutes plus `refreshEveryMs`.
 *
 * Each millisecond a new caller chain starts and reads `perTick` times in a row, each read timed on its own; a
 * chain whose read waits does not hold up the next millisecond's chain. The Effect service is read the same way
 * from fibers.
 */
import * as CairAuth from "@cair/auth/CairAuth"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type { FakeServer } from "../FakeServer.js"
import { duration, met, peers, percentile, type Row } from "../Report.js"
import * as Subjects from "../Subjects.js"

const refreshEveryMs = 3_000
const azureWindowMs = 120_000
const runMs = 7_000
const perTick = 10
const aroundMs = 500
/** A read waiting this long waited for a token request. */
const stallMs = 1

interface Samples {
  readonly starts: Float64Array
  readonly latencies: Float64Array
  length: number
}

const makeSamples = (): Samples => {
  const capacity = Math.ceil(runMs * perTick * 1.5)
  return { starts: new Float64Array(capacity), latencies: new Float64Array(capacity), length: 0 }
}

const record = (samples: Samples, start: number, end: number) => {
  if (samples.length === samples.starts.length) return
  samples.starts[samples.length] = start
  samples.latencies[samples.length] = end - start
  samples.length++
}

interface Stats {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly n: number
  readonly stalled: number
}

const stats = (values: Array<number>): Stats => {
  const sorted = Float64Array.from(values).sort()
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    n: sorted.length,
    stalled: values.filter((latency) => latency >= stallMs).length
  }
}

interface Outcome {
  readonly steady: Stats
  readonly refresh: Stats
  readonly tokenRequests: number
  readonly refreshes: number
}

const classify = (samples: Samples, refreshStarts: ReadonlyArray<number>, tokenRequests: number): Outcome => {
  const steady: Array<number> = []
  const around: Array<number> = []
  for (let i = 0; i < samples.length; i++) {
    const start = samples.starts[i]!
    const near = refreshStarts.some((refresh) => Math.abs(start - refresh) <= aroundMs)
    ;(near ? around : steady).push(samples.latencies[i]!)
  }
  return { steady: stats(steady), refresh: stats(around), tokenRequests, refreshes: refreshStarts.length }
}

/** Drives `read` from Promise code: a chain of `perTick` reads every millisecond for `runMs`. */
const drive = (read: () => Promise<unknown>, samples: Samples): Promise<void> =>
  new Promise((resolve, reject) => {
    const end = performance.now() + runMs
    let running = 0
    let ended = false
    const chain = async () => {
      running++
      try {
        for (let k = 0; k < perTick; k++) {
          const start = performance.now()
          await read()
          record(samples, start, performance.now())
        }
      } finally {
        running--
        if (ended && running === 0) resolve()
      }
    }
    const timer = setInterval(() => {
      if (performance.now() >= end) {
        clearInterval(timer)
        ended = true
        if (running === 0) resolve()
        return
      }
      chain().catch(reject)
    }, 1)
  })

interface Subject {
  readonly lifetimeMs?: number
  /** Gets the first token (not measured) and returns the read to measure. */
  readonly start: (fetchImpl: Subjects.Fetch) => Promise<{
    readonly read: () => Promise<unknown>
    readonly close?: () => Promise<void>
  }>
}

export const run = async (server: FakeServer): Promise<ReadonlyArray<Row>> => {
  const options = (fetchImpl: Subjects.Fetch) => ({ fetchImpl, refreshWindowMs: refreshEveryMs })
  const subjects: Record<string, Subject> = {
    "adapter": {
      start: async (fetchImpl) => {
        const client = Subjects.adapter(server, options(fetchImpl))
        await client.getAccessToken()
        return { read: () => client.getAccessToken(), close: () => client.close() }
      }
    },
    "google": {
      start: async (fetchImpl) => {
        const client = Subjects.googleRefreshHandler(server, options(fetchImpl))
        await client.getAccessToken()
        return { read: () => client.getAccessToken() }
      }
    },
    "google-sub": {
      start: async (fetchImpl) => {
        const client = new Subjects.GoogleSubclass(server, options(fetchImpl))
        await client.getAccessToken()
        return { read: () => client.getAccessToken() }
      }
    },
    "aws": {
      start: async (fetchImpl) => {
        const provider = Subjects.awsMemoize(server, options(fetchImpl))
        await provider()
        return { read: () => provider() }
      }
    },
    "azure": {
      lifetimeMs: azureWindowMs + refreshEveryMs,
      start: async (fetchImpl) => {
        const azure = Subjects.azure(server, options(fetchImpl))
        await azure.send()
        return { read: () => azure.getAccessToken() }
      }
    }
  }

  const outcomes: Record<string, Outcome> = {}
  try {
    for (const [name, subject] of Object.entries(subjects)) {
      await server.setAccessTokenTtl(subject.lifetimeMs ?? 2 * refreshEveryMs)
      const refreshStarts: Array<number> = []
      const fetchImpl = Subjects.recordingFetch(() => refreshStarts.push(performance.now()))
      const { close, read } = await subject.start(fetchImpl)
      refreshStarts.length = 0
      await server.resetLog()
      const samples = makeSamples()
      await drive(read, samples)
      outcomes[name] = classify(samples, refreshStarts, await server.tokenRequests())
      await close?.()
    }
    await server.setAccessTokenTtl(2 * refreshEveryMs)
    outcomes["effect"] = await runEffect(server)
  } finally {
    await server.setAccessTokenTtl(10 * 60 * 1000)
  }

  const us = (ms: number) => duration(ms)
  const describe = (o: Outcome) =>
    `steady p50 ${us(o.steady.p50)} p99 ${us(o.steady.p99)} max ${us(o.steady.max)}; ` +
    `refresh p50 ${us(o.refresh.p50)} p99 ${us(o.refresh.p99)} max ${us(o.refresh.max)}; ` +
    `${o.steady.stalled + o.refresh.stalled}/${(o.steady.n + o.refresh.n).toLocaleString("en")} ` +
    `reads ≥ ${stallMs} ms; ` +
    `${o.refreshes} refreshes, ${o.tokenRequests} token req`
  const ratio = (o: Outcome) => o.refresh.p99 / o.steady.p99
  const bench = "3 refresh, p99 refresh ÷ steady"
  const ours = (name: string, subject: string): Row => {
    const o = outcomes[name]!
    return {
      bench,
      subject,
      result: describe(o),
      floor: ratio(o),
      vs: Object.fromEntries(peers.map((peer) => [peer, o.refresh.p99 / outcomes[peer]!.refresh.p99])),
      target: met(ratio(o) <= 2, "refresh p99 ≤ 2× steady p99")
    }
  }
  const peer = (name: string, subject: string): Row => ({
    bench,
    subject,
    result: describe(outcomes[name]!),
    floor: ratio(outcomes[name]!)
  })
  return [
    ours("adapter", "adapter getAccessToken()"),
    ours("effect", "CairAuth.accessToken, from fibers"),
    peer("google", "google OAuth2Client + refreshHandler"),
    peer("google-sub", "google OAuth2Client subclass"),
    peer("aws", "aws memoize(provider)"),
    peer("azure", "azure token cycler")
  ]
}

/** The Effect service read from fibers: every millisecond a fiber reads `perTick` times. */
const runEffect = async (server: FakeServer): Promise<Outcome> => {
  const refreshStarts: Array<number> = []
  const fetchImpl = Subjects.recordingFetch(() => refreshStarts.push(performance.now()))
  const runtime = Subjects.effectRuntime(server, { fetchImpl, refreshWindowMs: refreshEveryMs })
  const samples = makeSamples()
  try {
    const auth = await runtime.runPromise(CairAuth.CairAuth)
    await runtime.runPromise(auth.accessToken)
    refreshStarts.length = 0
    await server.resetLog()
    const chain = Effect.gen(function*() {
      for (let k = 0; k < perTick; k++) {
        const start = performance.now()
        yield* auth.accessToken
        record(samples, start, performance.now())
      }
    })
    await runtime.runPromise(Effect.gen(function*() {
      const end = performance.now() + runMs
      const fibers: Array<Fiber.RuntimeFiber<void, unknown>> = []
      while (performance.now() < end) {
        fibers.push(yield* Effect.fork(chain))
        yield* Effect.sleep("1 millis")
      }
      yield* Fiber.joinAll(fibers)
    }))
    return classify(samples, refreshStarts, await server.tokenRequests())
  } finally {
    await runtime.dispose()
  }
}
