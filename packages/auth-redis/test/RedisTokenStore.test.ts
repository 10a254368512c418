import { RedisServer } from "@cair/auth-testing"
import * as TokenSet from "@cair/auth/TokenSet"
import type * as TokenStore from "@cair/auth/TokenStore"
import { TokenStoreError } from "@cair/auth/TokenStore"
import * as TokenStoreConformance from "@cair/auth/TokenStoreConformance"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createServer, type Server, type Socket } from "node:net"
import { inspect } from "node:util"
import { createClient } from "redis"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import { redisContents } from "./fixtures/fleet.js"

let redis: RedisServer.RedisServer
beforeAll(async () => {
  redis = await RedisServer.start({ startTimeoutMs: 60_000 })
}, 90_000)
afterAll(() => redis?.stop(), 30_000)

const secret = "S3CRET-redis-store-4a91"
const client = (clientId: string, clientSecret = secret): TokenStore.Client => ({
  clientId,
  baseUrl: "https://forecaster.cairhealth.com",
  clientSecret: Redacted.make(clientSecret)
})

const issued = (n: number, refreshMs = 3_600_000): TokenStore.StoredTokenSet => {
  const now = Date.now()
  return {
    tokens: TokenSet.TokenSet.make({
      accessToken: Redacted.make(`AT-secret-access-${n}`),
      refreshToken: Redacted.make(`RT-secret-refresh-${n}`),
      expiresAt: new Date(now + 600_000),
      refreshTokenExpiresAt: new Date(now + refreshMs)
    }),
    sentAt: now,
    receivedAt: now,
    serverDate: undefined
  }
}

const makeRaw = () => createClient({ url: redis.url })
const withRedis = <A>(f: (raw: ReturnType<typeof makeRaw>) => Promise<A>): Effect.Effect<A> =>
  Effect.promise(async () => {
    const raw = makeRaw()
    raw.on("error", () => {})
    await raw.connect()
    try {
      return await f(raw)
    } finally {
      raw.destroy()
    }
  })

/** Every key and value in Redis, as text. */
const dump = Effect.promise(() => redisContents(redis.url))

/** A logger that keeps what it logs, for the warnings-once checks and the secret scan. */
const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )
  return { lines, logger }
}

describe("RedisTokenStore keeps the store contract against a real Redis", () => {
  for (const c of TokenStoreConformance.cases) {
    it.live(c.name, () => c.run.pipe(Effect.scoped, Effect.provide(RedisTokenStore.layer({ url: redis.url }))), 60_000)
  }
})

describe("RedisTokenStore", () => {
  it.live("Redis holds no token, secret or client id: not in clear, base64 or hex", () =>
    Effect.gen(function*() {
      const store = yield* RedisTokenStore.make({ url: redis.url })
      const slot = yield* store.forClient(client("clinic-scan-7"))
      const first = Option.getOrThrow(yield* slot.put(issued(71), Option.none()))
      yield* slot.acquireLease(30_000)
      yield* slot.invalidate(first.version)
      const text = (yield* dump).join("\n")
      const forbidden = [secret, "AT-secret-access-71", "RT-secret-refresh-71", "clinic-scan-7"]
      for (const value of forbidden) {
        for (const encoded of [value, Buffer.from(value).toString("base64"), Buffer.from(value).toString("hex")]) {
          expect(text.includes(encoded), `Redis shows ${value.slice(0, 8)}…`).toBe(false)
        }
      }
      // Still readable by the holder of the secret.
      const read = Option.getOrThrow(yield* slot.latest)
      expect(Redacted.value(read.tokens.tokens.accessToken)).toBe("AT-secret-access-71")
    }).pipe(Effect.scoped), 60_000)

  it.live("an entry expires with its refresh token; a lease with its ttl", () =>
    Effect.gen(function*() {
      const store = yield* RedisTokenStore.make({ url: redis.url, keyPrefix: "ttl-test:" })
      const slot = yield* store.forClient(client("clinic-ttl"))
      yield* slot.put(issued(72, 120_000), Option.none())
      yield* slot.acquireLease(15_000)
      const ttls = yield* withRedis(async (raw) => {
        const out: Record<string, number> = {}
        for await (const keys of raw.scanIterator({ MATCH: "ttl-test:*" })) {
          for (const key of keys) out[key.endsWith(":lease") ? "lease" : "entry"] = await raw.pTTL(key)
        }
        return out
      })
      expect(ttls.entry).toBeGreaterThan(0)
      expect(ttls.entry).toBeLessThanOrEqual(120_000)
      expect(ttls.lease).toBeGreaterThan(0)
      expect(ttls.lease).toBeLessThanOrEqual(15_000)
    }).pipe(Effect.scoped), 60_000)

  it.live(
    "another secret cannot read the entry, nor a tampered one; without a secret the store refuses the client",
    () =>
      Effect.gen(function*() {
        const store = yield* RedisTokenStore.make({ url: redis.url, keyPrefix: "seal-test:" })
        const slot = yield* store.forClient(client("clinic-seal"))
        yield* slot.put(issued(73), Option.none())
        // Another secret names other keys: it sees nothing at all.
        const other = yield* store.forClient(client("clinic-seal", "S3CRET-other-secret-1"))
        expect(Option.isNone(yield* other.latest)).toBe(true)
        // A sealed value moved or altered does not open.
        yield* withRedis(async (raw) => {
          for await (const keys of raw.scanIterator({ MATCH: "seal-test:*:token" })) {
            for (const key of keys) {
              const sealed = (await raw.hGet(key, "s"))!
              const flipped = sealed.slice(0, 20) + (sealed[20] === "A" ? "B" : "A") + sealed.slice(21)
              await raw.hSet(key, "s", flipped)
            }
          }
        })
        const tampered = yield* Effect.either(slot.latest)
        expect(Either.isLeft(tampered) && tampered.left.reason).toBe("Malformed")
        const missing = yield* Effect.either(store.forClient({ ...client("clinic-seal"), clientSecret: undefined }))
        expect(Either.isLeft(missing) && missing.left.reason).toBe("Misconfigured")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "unreachable at start: calls fail fast with Unavailable, one warning, and nothing shows the password",
    () =>
      Effect.gen(function*() {
        // A port that accepts connections and never answers: nothing is closed, nothing is said.
        const sockets: Array<Socket> = []
        const silent: Server = createServer((socket) => void sockets.push(socket))
        yield* Effect.acquireRelease(
          Effect.promise(() => new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()))),
          () =>
            Effect.promise(() =>
              new Promise<void>((resolve) => {
                silent.close(() => resolve())
                for (const socket of sockets) socket.destroy()
              })
            )
        )
        const port = (silent.address() as { port: number }).port
        const { lines, logger } = capture()
        const failures = yield* Effect.gen(function*() {
          const store = yield* RedisTokenStore.make({
            url: Redacted.make(`redis://user:pa55-word-9@127.0.0.1:${port}`),
            connectTimeoutMs: 500,
            commandTimeoutMs: 300
          })
          const slot = yield* store.forClient(client("clinic-unreachable"))
          const out = []
          for (let i = 0; i < 5; i++) out.push(yield* Effect.either(slot.latest))
          return out
        }).pipe(Effect.provide(logger))
        for (const failure of failures) {
          expect(Either.isLeft(failure) && failure.left.reason).toBe("Unavailable")
          expect(Either.isLeft(failure) && failure.left.message).not.toContain("pa55-word-9")
        }
        const warnings = lines.filter((line) => line.startsWith("WARN"))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toContain("127.0.0.1")
        expect(lines.join("\n")).not.toContain("pa55-word-9")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "frozen (SIGSTOP), then resumed; stopped, then restarted: calls settle, one warning per outage, sharing again",
    () =>
      Effect.gen(function*() {
        const own = yield* Effect.acquireRelease(
          Effect.promise(() => RedisServer.start({ startTimeoutMs: 60_000 })),
          (server) => Effect.promise(() => server.stop())
        )
        const { lines, logger } = capture()
        yield* Effect.gen(function*() {
          const store = yield* RedisTokenStore.make({ url: own.url, commandTimeoutMs: 300 })
          const slot = yield* store.forClient(client("clinic-outage"))
          yield* slot.put(issued(74), Option.none())
          const works = Effect.map(Effect.either(slot.latest), Either.isRight)
          // 300 ms is short on a loaded machine: a read may time out before the freeze too. Wait for one that works.
          yield* eventually(works, "the store to answer before the freeze")

          own.pause()
          const frozen = yield* Effect.either(slot.latest)
          expect(Either.isLeft(frozen) && frozen.left.reason).toBe("Timeout")
          const next = yield* Effect.either(slot.latest)
          expect(Either.isLeft(next) && next.left.reason).toBe("Unavailable") // at once: the outage is known
          own.resume()
          yield* eventually(works, "the store to answer again after SIGCONT")

          yield* Effect.promise(() => own.restart())
          yield* eventually(works, "the store to answer again after a restart")
          // The restarted server is empty: the entry is gone, and a write works again.
          expect(Option.isNone(yield* slot.latest)).toBe(true)
          expect(Option.isSome(yield* slot.put(issued(75), Option.none()))).toBe(true)
        }).pipe(Effect.provide(logger))
        const warnings = lines.filter((line) => line.startsWith("WARN"))
        const recoveries = lines.filter((line) => line.includes("answers again"))
        expect(warnings.length).toBeGreaterThanOrEqual(1)
        expect(warnings.length).toBeLessThanOrEqual(2)
        expect(recoveries.length).toBe(warnings.length)
      }).pipe(Effect.scoped),
    120_000
  )
})

describe("RedisTokenStore with a URL node-redis cannot parse", () => {
  // Each holds this password: it must appear nowhere, in no form, since a URL's password is a secret.
  const password = "pw-S3CRET-url-5e7f"
  const urls = [
    ["not a URL", `not a url ${password}`],
    ["another scheme", `http://user:${password}@127.0.0.1:6379`],
    ["a bad port", `redis://user:${password}@127.0.0.1:70000`],
    ["a password that is not percent-encoded", `redis://user:${password}%ZZ@127.0.0.1:6379`],
    ["a broken IPv6 host", `redis://user:${password}@[::1:6379`]
  ] as const
  for (const [name, url] of urls) {
    it.live(
      `${name}: a typed Misconfigured error that never repeats the URL, from make and layer`,
      () =>
        Effect.gen(function*() {
          for (const given of [url, Redacted.make(url)]) {
            const made = yield* Effect.exit(Effect.scoped(RedisTokenStore.make({ url: given })))
            const layered = yield* Effect.exit(Effect.scoped(Layer.build(RedisTokenStore.layer({ url: given }))))
            const exits: ReadonlyArray<Exit.Exit<unknown, TokenStoreError>> = [made, layered]
            for (const exit of exits) {
              // A failure, not a defect.
              if (Exit.isSuccess(exit) || !Cause.isFailType(exit.cause)) throw new Error(`not a failure: ${exit._tag}`)
              const error = exit.cause.error
              expect(error).toBeInstanceOf(TokenStoreError)
              expect(error).toMatchObject({ reason: "Misconfigured", operation: "connect" })
              expect(error.message).toMatch(/redis:\/\/\[user:password@\]host:port/)
              expect(error.cause).toBeUndefined()
              const renderings = [
                error.message,
                String(error),
                JSON.stringify(error),
                inspect(error, { depth: 10, showHidden: true }),
                Cause.pretty(exit.cause)
              ].join("\n")
              for (const secret of [password, "S3CRET", "127.0.0.1"]) {
                expect(renderings.includes(secret), `the error shows ${secret.slice(0, 4)}…`).toBe(false)
              }
            }
          }
        }),
      30_000
    )
  }
})

/** Waits on the live clock until `condition` holds; the bound only turns a hang into a failure. */
const eventually = (condition: Effect.Effect<boolean>, what: string, boundMs = 30_000) =>
  Effect.gen(function*() {
    const giveUpAt = Date.now() + boundMs
    while (!(yield* condition)) {
      if (Date.now() > giveUpAt) return yield* Effect.dieMessage(`gave up waiting for ${what}`)
      yield* Effect.sleep("100 millis")
    }
  })
