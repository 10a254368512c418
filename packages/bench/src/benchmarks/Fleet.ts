/**
 * 6. Fleet: 16 processes cold, with and without the shared store (`@cair/auth-redis` on a real `redis-server`),
 * and the cached read with the Redis store against the same read without it.
 *
 * Fleet: each round forks 16 processes (`fleet/worker.mjs`) that build a client and say `ready`; then all are told
 * `go` at once, and each gets a token. Measured: the token requests the fake server received, the time from `go`
 * until the last process was served (and from the forks, which adds Node's start and the imports), and the number
 * of distinct tokens. Four subjects (`CairAuth` and the adapter, alone and on Redis), in a rotated order each round,
 * each Redis round on an emptied server; figures are medians over the rounds.
 *
 * Cached read: in this process, a client without a store, one on the Redis store and a second one without, all
 * holding a token, read in 400 triples of short loops back to back in a rotated order (as bench 1 pairs metrics on
 * and off); the figure is the median of the triples' ratios on Redis ÷ without, beside the same ratio for the two
 * clients without a store (the noise between two instances), and the commands Redis processed while the reads ran
 * (the hot path must send none).
 *
 * Every child and the redis-server are killed when the benchmark ends, fails, or the bench process exits.
 */
import { RedisServer } from "@cair/auth-testing"
import * as CairAuth from "@cair/auth/CairAuth"
import * as Effect from "effect/Effect"
import { type ChildProcess, fork } from "node:child_process"
import { createConnection } from "node:net"
import type { FakeServer } from "../FakeServer.js"
import { duration, median, met, type Row } from "../Report.js"
import * as Subjects from "../Subjects.js"

const processes = 16
const rounds = 3
/** Bounds a hang of the fleet (a child that never answers) into a failure. */
const answerTimeoutMs = 120_000
const triples = 400
const tripleBatch = 2_000

type Api = "effect" | "adapter"
interface Subject {
  readonly api: Api
  readonly shared: boolean
}
const subjects: ReadonlyArray<Subject> = [
  { api: "effect", shared: false },
  { api: "effect", shared: true },
  { api: "adapter", shared: false },
  { api: "adapter", shared: true }
]
const key = (subject: Subject) => `${subject.api}-${subject.shared ? "redis" : "alone"}`

// -------------------------------------------------------------------------------------------------------------------
// Children and the redis-server: whatever happens, none outlives the bench.

const children = new Set<ChildProcess>()
let redisPid: (() => number) | undefined
const killChildren = () => {
  for (const child of children) child.kill("SIGKILL")
  children.clear()
}
const killEverything = () => {
  killChildren()
  if (redisPid !== undefined) {
    try {
      process.kill(redisPid(), "SIGKILL")
    } catch {
      // Already gone.
    }
  }
}
process.on("exit", killEverything)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killEverything()
    process.exit(128 + (signal === "SIGINT" ? 2 : 15))
  })
}

interface Worker {
  readonly ready: Promise<void>
  /** Sends `go`; resolves with the answer and when it arrived (`performance.now()`). */
  readonly go: () => Promise<{ readonly hash: string; readonly at: number }>
  readonly exit: () => Promise<void>
  /** What the child wrote on stdout and stderr (its warnings). */
  readonly output: () => string
}

const workerUrl = new URL("../fleet/worker.mjs", import.meta.url)

/** What `fleet/worker.mjs` is told, and what it answers (over the IPC channel). */
type Command = "go" | "exit"
type Answer =
  | { readonly ready: true }
  | { readonly served: string; readonly tookMs: number }
  | { readonly failed: string }

const startWorker = (server: FakeServer, api: Api, redisUrl: string | undefined): Worker => {
  const child = fork(workerUrl, {
    execArgv: [],
    env: {
      ...process.env,
      CAIR_CLIENT_ID: server.clientId,
      CAIR_CLIENT_SECRET: server.clientSecret,
      CAIR_BASE_URL: server.url,
      CAIR_REDIS_URL: redisUrl ?? "",
      FLEET_API: api
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"]
  })
  children.add(child)
  let output = ""
  const keep = (data: Buffer) => void (output = (output + data.toString("utf8")).slice(-4000))
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  void exited.then(() => children.delete(child))
  /** The next message that `pick` accepts; rejects if the child exits or fails first, or after the timeout. */
  const next = <A>(pick: (answer: Answer) => A | undefined): Promise<A> =>
    new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer)
        child.off("message", onMessage)
        reject(new Error(`fleet worker ${child.pid}: ${why}\n${output.slice(-1500)}`))
      }
      const timer = setTimeout(() => fail(`no answer within ${answerTimeoutMs / 1000} s`), answerTimeoutMs)
      const onMessage = (answer: Answer) => {
        if ("failed" in answer) return fail(`failed: ${answer.failed}`)
        const picked = pick(answer)
        if (picked === undefined) return
        clearTimeout(timer)
        child.off("message", onMessage)
        resolve(picked)
      }
      child.on("message", onMessage)
      void exited.then(() => fail(`exited (${child.exitCode ?? child.signalCode})`))
    })
  const send = (command: Command) => child.send(command)
  return {
    ready: next((answer) => "ready" in answer ? true : undefined).then(() => undefined),
    go: () => {
      const answered = next((answer) => "served" in answer ? { hash: answer.served, at: performance.now() } : undefined)
      send("go")
      return answered
    },
    exit: async () => {
      send("exit")
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      await exited
      clearTimeout(timer)
    },
    output: () => output
  }
}

/** Commands Redis has processed (`INFO stats`), over a raw connection: no client of the bench's own. */
const redisCommands = (port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    let reply = ""
    const done = (result: number | Error) => {
      clearTimeout(timer)
      socket.destroy()
      if (typeof result === "number") resolve(result)
      else reject(result)
    }
    const timer = setTimeout(() => done(new Error("redis INFO: no answer within 10 s")), 10_000)
    socket.on("connect", () => socket.write("INFO stats\r\n"))
    socket.on("data", (data: Buffer) => {
      reply += data.toString("utf8")
      const match = /total_commands_processed:(\d+)\r\n/.exec(reply)
      if (match !== null) done(Number(match[1]))
    })
    socket.on("error", done)
  })

// -------------------------------------------------------------------------------------------------------------------
// The fleet

interface FleetRound {
  readonly requests: number
  readonly tokens: number
  readonly fromGoMs: number
  readonly fromForkMs: number
  readonly redisCommands: number | undefined
  readonly warnings: number
}

const fleetRound = async (
  server: FakeServer,
  subject: Subject,
  redis: RedisServer.RedisServer
): Promise<FleetRound> => {
  if (subject.shared) await redis.restart()
  await server.resetLog()
  const commandsBefore = subject.shared ? await redisCommands(redis.port) : 0
  const forkedAt = performance.now()
  const workers = Array.from(
    { length: processes },
    () => startWorker(server, subject.api, subject.shared ? redis.url : undefined)
  )
  try {
    await Promise.all(workers.map((worker) => worker.ready))
    const goAt = performance.now()
    const answers = await Promise.all(workers.map((worker) => worker.go()))
    const lastAt = Math.max(...answers.map((answer) => answer.at))
    const requests = await server.tokenRequests()
    // Less 1: the first INFO is counted in the second.
    const commands = subject.shared ? await redisCommands(redis.port) - commandsBefore - 1 : undefined
    await Promise.all(workers.map((worker) => worker.exit()))
    return {
      requests,
      tokens: new Set(answers.map((answer) => answer.hash)).size,
      fromGoMs: lastAt - goAt,
      fromForkMs: lastAt - forkedAt,
      redisCommands: commands,
      warnings: workers.filter((worker) => /warn/i.test(worker.output())).length
    }
  } finally {
    killChildren()
  }
}

// -------------------------------------------------------------------------------------------------------------------
// The cached read with the Redis store against without

interface Interleaved {
  readonly alone: number
  readonly redis: number
  /** Median of the triples' redis ÷ alone. */
  readonly ratio: number
  /** Median of the triples' alone2 ÷ alone (two clients without a store): the noise between two instances. */
  readonly calibration: number
  readonly redisCommands: number
}

type Loop = (n: number) => Promise<number>

/**
 * Triples of loops back to back (without a store, on Redis, another without a store), in a rotated order; medians
 * of the ns/read and of each triple's ratios to the first client without a store.
 */
const interleaved = async (alone: Loop, redis: Loop, alone2: Loop, redisPort: number): Promise<Interleaved> => {
  const loops = [alone, redis, alone2]
  const ms = [0, 0, 0]
  const measured: Array<ReadonlyArray<number>> = []
  const commandsBefore = await redisCommands(redisPort)
  for (let triple = 0; triple < triples; triple++) {
    for (let k = 0; k < loops.length; k++) {
      const j = (k + triple) % loops.length
      ms[j] = await loops[j]!(tripleBatch)
    }
    measured.push([...ms])
  }
  // Less 1: the first INFO is counted in the second.
  const commands = await redisCommands(redisPort) - commandsBefore - 1
  const nsPerRead = (j: number) => median(measured.map((t) => t[j]! * 1e6 / tripleBatch))
  return {
    alone: nsPerRead(0),
    redis: nsPerRead(1),
    ratio: median(measured.map((t) => t[1]! / t[0]!)),
    calibration: median(measured.map((t) => t[2]! / t[0]!)),
    redisCommands: commands
  }
}

const cachedRead = async (server: FakeServer, redisUrl: string, redisPort: number) => {
  // In the order `interleaved` takes them: without a store, on Redis, another without a store.
  const runtimes = [
    Subjects.effectRuntime(server),
    Subjects.effectRuntime(server, { redisUrl }),
    Subjects.effectRuntime(server)
  ]
  const adapters = [Subjects.adapter(server), Subjects.adapter(server, { redisUrl }), Subjects.adapter(server)]
  try {
    const effectLoops = await Promise.all(runtimes.map(async (runtime): Promise<Loop> => {
      const auth = await runtime.runPromise(CairAuth.CairAuth)
      await runtime.runPromise(auth.accessToken)
      const loop = (n: number) =>
        Effect.gen(function*() {
          const start = performance.now()
          for (let i = 0; i < n; i++) yield* auth.accessToken
          return performance.now() - start
        })
      return (n) => runtime.runPromise(loop(n))
    }))
    const adapterLoops = await Promise.all(adapters.map(async (client): Promise<Loop> => {
      await client.getAccessToken()
      return async (n) => {
        const start = performance.now()
        for (let i = 0; i < n; i++) await client.getAccessToken()
        return performance.now() - start
      }
    }))
    // Warm-up: every loop compiled before the triples are timed.
    for (const loop of [...effectLoops, ...adapterLoops]) for (let i = 0; i < 20; i++) await loop(tripleBatch)
    return {
      effect: await interleaved(effectLoops[0]!, effectLoops[1]!, effectLoops[2]!, redisPort),
      adapter: await interleaved(adapterLoops[0]!, adapterLoops[1]!, adapterLoops[2]!, redisPort)
    }
  } finally {
    await Promise.all(adapters.map((client) => client.close()))
    await Promise.all(runtimes.map((runtime) => runtime.dispose()))
  }
}

// -------------------------------------------------------------------------------------------------------------------

export const run = async (server: FakeServer): Promise<ReadonlyArray<Row>> => {
  const redis = await RedisServer.start({ startTimeoutMs: 60_000 })
  redisPid = redis.pid
  try {
    const results = new Map<string, Array<FleetRound>>(subjects.map((subject) => [key(subject), []]))
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < subjects.length; i++) {
        const subject = subjects[(i + round) % subjects.length]!
        results.get(key(subject))!.push(await fleetRound(server, subject, redis))
      }
    }
    await server.resetLog()
    const read = await cachedRead(server, redis.url, redis.port)

    const fleetBench = `6 fleet, ${processes} processes cold`
    const fleetRow = (subject: Subject, label: string): Row => {
      const all = results.get(key(subject))!
      const alone = results.get(key({ ...subject, shared: false }))!
      const requests = all.map((r) => r.requests)
      const warned = all.reduce((sum, r) => sum + r.warnings, 0)
      const commands = all.map((r) => r.redisCommands).filter((n) => n !== undefined)
      return {
        bench: fleetBench,
        subject: label,
        result: `${median(requests)} token requests (${requests.join(", ")}), ` +
          `${median(all.map((r) => r.tokens))} distinct tokens; all served ${
            duration(median(all.map((r) => r.fromGoMs)))
          } after go, ${duration(median(all.map((r) => r.fromForkMs)))} after fork` +
          (commands.length > 0 ? `; ${median(commands)} Redis commands` : "") +
          (warned > 0 ? `; ${warned} processes logged a warning` : ""),
        // The time until all are served, against the same client alone, per round.
        floor: subject.shared ? median(all.map((r, i) => r.fromGoMs / alone[i]!.fromGoMs)) : undefined,
        target: subject.shared
          ? met(requests.every((n) => n === 1), "exactly 1 token request each round")
          : undefined
      }
    }
    const readBench = "6 cached read, Redis store"
    const readRows = (p: Interleaved, api: string): ReadonlyArray<Row> => [
      { bench: readBench, subject: `${api}, no store (baseline)`, result: `${p.alone.toFixed(0)} ns/read` },
      {
        bench: readBench,
        subject: `${api}, RedisTokenStore`,
        result:
          `${p.redis.toFixed(0)} ns/read; ${p.ratio.toFixed(3)}× no store, median of ${triples} interleaved loops ` +
          `of ${tripleBatch} (two clients without a store: ${p.calibration.toFixed(3)}×); ` +
          `${p.redisCommands} Redis commands during the reads`,
        floor: p.ratio,
        target: met(p.ratio <= 1.1 && p.redisCommands === 0, "≤ 1.1× no store, 0 Redis commands")
      }
    ]
    return [
      fleetRow({ api: "effect", shared: false }, "CairAuth, each process alone (baseline)"),
      fleetRow({ api: "effect", shared: true }, "CairAuth + RedisTokenStore"),
      fleetRow({ api: "adapter", shared: false }, "adapter, each process alone (baseline)"),
      fleetRow({ api: "adapter", shared: true }, "adapter with redisUrl"),
      ...readRows(read.effect, "CairAuth.accessToken, in one fiber"),
      ...readRows(read.adapter, "adapter await getAccessToken()")
    ]
  } finally {
    killEverything()
    redisPid = undefined
    await redis.stop()
  }
}
