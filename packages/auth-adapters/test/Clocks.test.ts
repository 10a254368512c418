import { FakeCairServer } from "@cair/auth-testing"
import { type ChildProcess, fork } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach, describe, expect, it } from "vitest"

/*
 * The adapter's two clock reads per cache hit, against clocks that misbehave, in a child process on the built
 * package (test/fixtures/clockChild.cjs): a process stopped past its token's life with a message waiting, and a wall
 * clock stepped back and forward while the monotonic clock goes on.
 */

interface TokenReply {
  readonly id: string
  readonly generation: number
  readonly expiresAt: number
}

let server: FakeCairServer.Handle
const children: Array<ChildProcess> = []

beforeEach(async () => {
  server = await FakeCairServer.start({ accessTokenTtlMs: 3_000 })
})

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT")
      child.kill("SIGKILL")
      await once(child, "exit")
    }
  }
  await server.stop()
})

/** Starts the child and resolves once its client exists. */
const start = async () => {
  const child = fork(fileURLToPath(new URL("fixtures/clockChild.cjs", import.meta.url)), [], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: {
      ...process.env,
      CAIR_CLIENT_ID: server.credentials.clientId,
      CAIR_CLIENT_SECRET: server.credentials.clientSecret,
      CAIR_BASE_URL: server.url
    },
    // Not vitest's worker flags: a plain `node` process.
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  children.push(child)
  const [ready] = await once(child, "message")
  expect(ready).toEqual({ ready: true })
  let seq = 0
  /** Sends a command; the reply is awaited separately, so that a command can be sent while the child is stopped. */
  const send = (cmd: string, fields: Record<string, unknown> = {}) => {
    const id = ++seq
    const reply = new Promise<Record<string, unknown>>((resolve) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (message.seq !== id) return
        child.off("message", onMessage)
        resolve(message)
      }
      child.on("message", onMessage)
    })
    child.send({ cmd, seq: id, ...fields })
    return reply
  }
  const token = async (): Promise<TokenReply> => {
    const reply = await send("token")
    expect(reply.error).toBeUndefined()
    return reply as unknown as TokenReply
  }
  const step = async (ms: number) => void (await send("step", { ms }))
  const close = async () => {
    const exited = once(child, "exit")
    await send("close")
    const [code] = await exited
    expect(code).toBe(0)
  }
  return { child, send, token, step, close }
}

/** Resolves once the local clock is past `time`: the token's real life is over. */
const until = async (time: number) => {
  while (Date.now() <= time) await new Promise((resolve) => setTimeout(resolve, Math.max(10, time - Date.now() + 1)))
}

const tokenRequests = () => server.count("/api/token") + server.count("/api/refresh")

describe("the adapter's clock check", () => {
  it("a process stopped past its token's life answers the message waiting for it with a new token", async () => {
    const child = await start()
    const first = await child.token()
    expect(tokenRequests()).toBe(1)

    child.child.kill("SIGSTOP")
    await until(first.expiresAt)
    // The message arrives while the process is stopped: after SIGCONT its I/O callback may run before any timer.
    const reply = child.send("token")
    child.child.kill("SIGCONT")
    const answer = (await reply) as unknown as TokenReply

    expect(answer.id).not.toBe(first.id)
    expect(answer.generation).toBe(first.generation + 1)
    expect(tokenRequests()).toBe(2)
    await child.close()
  })

  it("a wall clock stepped back does not stretch the token's life: the monotonic clock ends it", async () => {
    const child = await start()
    const first = await child.token()

    await child.step(-60_000)
    // Still inside its life on both clocks: the same token.
    expect((await child.token()).id).toBe(first.id)

    // Past its real life, while the stepped wall clock says it is a minute younger.
    await until(first.expiresAt)
    const after = await child.token()
    expect(after.id).not.toBe(first.id)
    expect(after.generation).toBeGreaterThan(first.generation)
    await child.close()
  })

  it("a wall clock stepped back by less than the time since the last read does not stretch the token's life", async () => {
    const child = await start()
    const first = await child.token()

    // Idle for a second, then the wall clock steps back 2.5 s: a reading after it is still later than the last one.
    await until(Date.now() + 1_000)
    await child.step(-2_500)
    // Past its real life, while the wall clock says it has half a second to go.
    await until(first.expiresAt)
    const after = await child.token()
    expect(after.id).not.toBe(first.id)
    expect(after.generation).toBeGreaterThan(first.generation)
    await child.close()
  })

  it("a wall clock jumping forward (a suspended machine) ends the token at once, and stepping back keeps the new one", async () => {
    const child = await start()
    const first = await child.token()

    await child.step(10 * 60_000)
    const after = await child.token()
    expect(after.id).not.toBe(first.id)
    expect(tokenRequests()).toBe(2)

    // Back to the real time: the new token is younger than ever by the wall clock; the monotonic one says it is fresh.
    await child.step(-10 * 60_000)
    expect((await child.token()).id).toBe(after.id)
    expect(tokenRequests()).toBe(2)
    await child.close()
  })
})
