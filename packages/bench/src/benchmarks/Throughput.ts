/**
 * 4. Authenticated requests: `POST /api/eligibility/v1` on the fake server over loopback, `concurrency` requests
 * in flight, each response body read. Plain `fetch` with a fixed `Authorization` header is the floor; against it
 * the adapter's `fetch` and the `CairHttpClient` of `@cair/auth` (and, for reference, the Effect platform's bare
 * `FetchHttpClient` with a fixed header: what `CairHttpClient` is built on here; and `CairHttpClient` on
 * `NodeHttpClient.layerUndici` instead, the other transport an app can pick). Rounds of `roundMs` per subject,
 * interleaved; requests per second is the median over the rounds (a ratio: the median of the per-round ratios),
 * and so is the bench process's CPU time per request (user + system, `process.cpuUsage`): the client's own cost,
 * whichever side is the bottleneck. The fake server runs in its own process.
 */
import * as CairAuth from "@cair/auth/CairAuth"
import * as CairHttpClient from "@cair/auth/CairHttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type { FakeServer } from "../FakeServer.js"
import { median, met, type Row, sleep } from "../Report.js"
import * as Subjects from "../Subjects.js"

const concurrency = 32
const roundMs = 1_000
const rounds = 5
const path = "/api/eligibility/v1"
const body = JSON.stringify({ memberId: "M-000123" })

interface Tally {
  ok: number
  failed: number
}

type Round = (until: number, tally: Tally) => Promise<void>

const count = (tally: Tally, status: number) => {
  if (status === 200) tally.ok++
  else tally.failed++
}

export const run = async (server: FakeServer): Promise<ReadonlyArray<Row>> => {
  const url = `${server.url}${path}`
  const { accessToken } = await Subjects.fetchToken(server)
  const authorization = `Bearer ${accessToken}`

  const client = Subjects.adapter(server)
  await client.getAccessToken()

  const live = (transport: Layer.Layer<HttpClient.HttpClient>) =>
    CairHttpClient.layer().pipe(
      Layer.provideMerge(
        CairAuth.layer({ clientId: server.clientId, clientSecret: server.clientSecret, baseUrl: server.url })
      ),
      Layer.provideMerge(transport),
      Layer.merge(Logger.minimumLogLevel(LogLevel.None))
    )
  const runtime = ManagedRuntime.make(live(FetchHttpClient.layer))
  const undiciRuntime = ManagedRuntime.make(live(NodeHttpClient.layerUndici))
  const undiciHttp = await undiciRuntime.runPromise(CairHttpClient.CairHttpClient)
  const http = await runtime.runPromise(CairHttpClient.CairHttpClient)
  const bare = await runtime.runPromise(HttpClient.HttpClient)
  const bareRequest = HttpClientRequest.post(url).pipe(
    HttpClientRequest.bodyUnsafeJson({ memberId: "M-000123" }),
    HttpClientRequest.bearerToken(accessToken)
  )
  await runtime.runPromise(Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken))
  await undiciRuntime.runPromise(Effect.flatMap(CairAuth.CairAuth, (auth) => auth.accessToken))
  const request = HttpClientRequest.post(path).pipe(HttpClientRequest.bodyUnsafeJson({ memberId: "M-000123" }))

  const subjects: Record<string, Round> = {
    "plain": (until, tally) =>
      Promise.all(Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const response = await fetch(url, {
            method: "POST",
            headers: { authorization, "content-type": "application/json" },
            body
          })
          await response.text()
          count(tally, response.status)
        }
      })).then(() => undefined),
    "adapter": (until, tally) =>
      Promise.all(Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const response = await client.fetch(path, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body
          })
          await response.text()
          count(tally, response.status)
        }
      })).then(() => undefined),
    "effect-bare": (until, tally) => {
      const worker = Effect.gen(function*() {
        while (performance.now() < until) {
          const response = yield* bare.execute(bareRequest)
          yield* response.text
          count(tally, response.status)
        }
      }).pipe(Effect.catchAll(() => Effect.sync(() => tally.failed++)))
      return runtime.runPromise(
        Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      )
    },
    "effect": (until, tally) => {
      const worker = Effect.gen(function*() {
        while (performance.now() < until) {
          const response = yield* http.execute(request)
          yield* response.text
          count(tally, response.status)
        }
      }).pipe(Effect.catchAll(() => Effect.sync(() => tally.failed++)))
      return runtime.runPromise(
        Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      )
    },
    "effect-undici": (until, tally) => {
      const worker = Effect.gen(function*() {
        while (performance.now() < until) {
          const response = yield* undiciHttp.execute(request)
          yield* response.text
          count(tally, response.status)
        }
      }).pipe(Effect.catchAll(() => Effect.sync(() => tally.failed++)))
      return undiciRuntime.runPromise(
        Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      )
    }
  }

  const names = Object.keys(subjects)
  const rps: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  const cpuPerRequest: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  const failed: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]))
  await server.autoReset(200)
  try {
    // A short unmeasured round each, to warm up the JIT and the connection pool.
    for (const name of names) await subjects[name]!(performance.now() + 300, { ok: 0, failed: 0 })
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + round) % names.length]!
        await sleep(50)
        const tally: Tally = { ok: 0, failed: 0 }
        const cpu = process.cpuUsage()
        const start = performance.now()
        await subjects[name]!(start + roundMs, tally)
        const elapsed = performance.now() - start
        const used = process.cpuUsage(cpu)
        rps[name]!.push(tally.ok / (elapsed / 1000))
        cpuPerRequest[name]!.push((used.user + used.system) / tally.ok)
        failed[name]! += tally.failed
      }
    }
  } finally {
    await server.autoReset(0)
    await client.close()
    await runtime.dispose()
    await undiciRuntime.dispose()
  }

  const perSecond = (name: string) => median(rps[name]!)
  const ratio = (name: string, to: string) => median(rps[name]!.map((value, round) => value / rps[to]![round]!))
  const result = (name: string) =>
    `${perSecond(name).toFixed(0)} req/s, client CPU ${median(cpuPerRequest[name]!).toFixed(0)} µs/req` +
    (failed[name]! > 0 ? `, ${failed[name]} not 200` : "")
  const bench = `4 authenticated POST, ${concurrency} in flight`
  const ours = (name: string, subject: string): Row => {
    const toPlain = ratio(name, "plain")
    return {
      bench,
      subject,
      result: result(name),
      floor: toPlain,
      target: met(toPlain >= 0.95, "≥ 0.95× plain fetch req/s")
    }
  }
  return [
    { bench, subject: "fetch with a fixed Authorization header (floor)", result: result("plain") },
    ours("adapter", "adapter fetch()"),
    {
      bench,
      subject: "Effect FetchHttpClient, fixed header (reference)",
      result: result("effect-bare"),
      floor: ratio("effect-bare", "plain")
    },
    {
      ...ours("effect", "CairHttpClient (Effect HttpClient)"),
      result: `${result("effect")}; ${ratio("effect", "effect-bare").toFixed(2)}× bare FetchHttpClient`
    },
    {
      bench,
      subject: "CairHttpClient on NodeHttpClient.layerUndici (reference)",
      result: result("effect-undici"),
      floor: ratio("effect-undici", "plain")
    }
  ]
}
