/**
 * 2. Cold start: `callers` concurrent callers on a client that has no token yet. Counts the token requests the
 * fake server saw and times until every caller has a token. Each subject runs `reps` times, interleaved; the
 * time is the median, the request counts are all shown.
 */
import * as CairAuth from "@cair/auth/CairAuth"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as FakeServer from "../FakeServer.js"
import { duration, median, met, type Peer, peers, type Row } from "../Report.js"
import * as Subjects from "../Subjects.js"

const callers = 10_000
const reps = 3
/**
 * Without a single flight every caller makes its own request: 10,000 connections at once overflow the server's
 * accept queue, and a request can take until its 10-second timeout. These subjects run once, after the others, on
 * a fake server of their own, stopped afterwards: the requests it still has queued then count nowhere else.
 */
const once = new Set(["google"])

interface Trial {
  /** Builds a cold client (requesting nothing), returns how to fire the callers and how to close it. */
  readonly setup: (server: FakeServer.FakeServer) => Promise<{
    readonly fire: () => Promise<Array<string>>
    readonly close?: () => Promise<void>
  }>
}

const reasonOf = (error: unknown): string => {
  const cause = error instanceof Error ? error.cause : undefined
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  return code ?? (cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error))
}

/** Fires the callers; resolves with why each failed caller failed. */
const times = async (f: () => Promise<unknown>): Promise<Array<string>> => {
  const settled = await Promise.allSettled(Array.from({ length: callers }, f))
  return settled.flatMap((result) => result.status === "rejected" ? [reasonOf(result.reason)] : [])
}

export const run = async (shared: FakeServer.FakeServer): Promise<ReadonlyArray<Row>> => {
  const trials: Record<string, Trial> = {
    "floor": {
      // A hand-written single flight: one shared promise of one token request.
      setup: async (server) => {
        let shared: Promise<unknown> | undefined
        return { fire: () => times(() => shared ??= Subjects.fetchToken(server)) }
      }
    },
    "effect-floor": {
      // The same in Effect: one fiber requests, `callers` fibers (forked as the service's callers are) await it.
      setup: async (server) => {
        const runtime = ManagedRuntime.make(Layer.empty)
        await runtime.runtime()
        const fire = Effect.gen(function*() {
          const token = yield* Deferred.make<unknown, unknown>()
          yield* Effect.fork(Deferred.complete(token, Effect.tryPromise(() => Subjects.fetchToken(server))))
          yield* Effect.all(Array.from({ length: callers }, () => Deferred.await(token)), {
            concurrency: "unbounded",
            discard: true
          })
        })
        return {
          fire: () => runtime.runPromise(Effect.as(fire, [])).catch((error) => [reasonOf(error)]),
          close: () => runtime.dispose()
        }
      }
    },
    "adapter": {
      setup: async (server) => {
        const client = Subjects.adapter(server)
        return { fire: () => times(() => client.getAccessToken()), close: () => client.close() }
      }
    },
    "effect": {
      setup: async (server) => {
        const runtime = Subjects.effectRuntime(server)
        await runtime.runtime()
        const fire = Effect.flatMap(
          CairAuth.CairAuth,
          (auth) =>
            Effect.all(Array.from({ length: callers }, () => auth.accessToken), {
              concurrency: "unbounded",
              discard: true
            })
        )
        return {
          fire: () => runtime.runPromise(Effect.as(fire, [])).catch((error) => [reasonOf(error)]),
          close: () => runtime.dispose()
        }
      }
    },
    "google": {
      setup: async (server) => {
        const client = Subjects.googleRefreshHandler(server)
        return { fire: () => times(() => client.getAccessToken()) }
      }
    },
    "google-sub": {
      setup: async (server) => {
        const client = new Subjects.GoogleSubclass(server)
        return { fire: () => times(() => client.getAccessToken()) }
      }
    },
    "aws": {
      setup: async (server) => {
        const provider = Subjects.awsMemoize(server)
        return { fire: () => times(() => provider()) }
      }
    },
    "azure": {
      setup: async (server) => {
        const azure = Subjects.azure(server)
        return { fire: () => times(() => azure.send()) }
      }
    }
  }

  const names = Object.keys(trials)
  const ms: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  const requests: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  const failures: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  const reasons: Record<string, Map<string, number>> = Object.fromEntries(names.map((name) => [name, new Map()]))
  const repeated = names.filter((name) => !once.has(name))
  const schedule = [
    ...Array.from({ length: reps }, (_, rep) => repeated.map((_, i) => repeated[(i + rep) % repeated.length]!)).flat(),
    ...once
  ]
  for (const name of schedule) {
    const server = once.has(name) ? await FakeServer.start() : shared
    const { close, fire } = await trials[name]!.setup(server)
    await server.resetLog()
    const start = performance.now()
    const failed = await fire()
    ms[name]!.push(performance.now() - start)
    failures[name]!.push(failed.length)
    for (const reason of failed) reasons[name]!.set(reason, (reasons[name]!.get(reason) ?? 0) + 1)
    requests[name]!.push(await server.tokenRequests())
    await close?.()
    if (server !== shared) await server.stop()
  }

  const time = (name: string) => median(ms[name]!)
  const counts = (name: string) => {
    const all = requests[name]!
    const unique = [...new Set(all)]
    if (unique.length > 1) return `${all.join(" / ")} token requests`
    const each = all.length > 1 ? ` (each of ${all.length} runs)` : ""
    return `${unique[0]} token request${unique[0] === 1 ? "" : "s"}${each}`
  }
  const failed = (name: string) => {
    const all = failures[name]!
    if (all.every((n) => n === 0)) return ""
    const why = [...reasons[name]!].sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => `${n.toLocaleString("en")} ${reason}`)
    return `; ${all.map((n) => n.toLocaleString("en")).join(" / ")} callers failed (${why.join(", ")})`
  }
  const result = (name: string) => `${duration(time(name))}, ${counts(name)}${failed(name)}`
  const vs = (name: string) => Object.fromEntries(peers.map((peer: Peer) => [peer, time(name) / time(peer)]))
  const exactlyOne = (name: string) => requests[name]!.every((n) => n === 1) && failures[name]!.every((n) => n === 0)
  const bench = `2 cold start, ${callers.toLocaleString("en")} callers`
  const ours = (name: string, subject: string): Row => ({
    bench,
    subject,
    result: result(name),
    floor: time(name) / time("floor"),
    vs: vs(name),
    target: met(exactlyOne(name), "exactly 1 token request")
  })
  const peer = (name: string, subject: string): Row => ({
    bench,
    subject,
    result: result(name),
    floor: time(name) / time("floor")
  })
  return [
    { bench, subject: "one shared fetch promise (floor)", result: result("floor") },
    ours("adapter", "adapter getAccessToken()"),
    { bench, subject: "Effect: 10k fibers await one Deferred (floor)", result: result("effect-floor") },
    { ...ours("effect", "CairAuth.accessToken, one fiber per caller"), floor: time("effect") / time("effect-floor") },
    peer("google", "google OAuth2Client + refreshHandler"),
    peer("google-sub", "google OAuth2Client subclass (refreshTokenNoCache)"),
    peer("aws", "aws memoize(provider)"),
    peer("azure", "azure bearerTokenAuthenticationPolicy")
  ]
}
