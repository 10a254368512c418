/**
 * The parent's side of `server.ts`: starts the fake Cair server in a child process and drives it.
 */
import { fork } from "node:child_process"

export interface FakeServer {
  readonly url: string
  readonly clientId: string
  readonly clientSecret: string
  /** Token requests received (`/api/token` plus `/api/refresh`) since the last `resetLog`. */
  readonly tokenRequests: () => Promise<number>
  readonly setAccessTokenTtl: (ms: number) => Promise<void>
  readonly resetLog: () => Promise<void>
  /** Clears the request log every `everyMs` (0: never), so that it stays short under load. */
  readonly autoReset: (everyMs: number) => Promise<void>
  readonly stop: () => Promise<void>
}

interface Reply {
  readonly id?: number
  readonly result?: unknown
  readonly ready?: boolean
  readonly url?: string
  readonly credentials?: { readonly clientId: string; readonly clientSecret: string }
}

export const start = (): Promise<FakeServer> =>
  new Promise((resolve, reject) => {
    const child = fork(new URL("./server.ts", import.meta.url), {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let nextId = 0
    const pending = new Map<number, (result: unknown) => void>()
    const call = (command: Record<string, unknown>) =>
      new Promise<unknown>((done) => {
        const id = ++nextId
        pending.set(id, done)
        child.send({ id, ...command })
      })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`fake server exited early (${code})`)))
    child.on("message", (reply: Reply) => {
      if (reply.ready === true && reply.url !== undefined && reply.credentials !== undefined) {
        resolve({
          url: reply.url,
          clientId: reply.credentials.clientId,
          clientSecret: reply.credentials.clientSecret,
          tokenRequests: async () =>
            (await call({ cmd: "count", path: "/api/token" }) as number) +
            (await call({ cmd: "count", path: "/api/refresh" }) as number),
          setAccessTokenTtl: async (ms) => void (await call({ cmd: "setLifetimes", accessTokenTtlMs: ms })),
          resetLog: async () => void (await call({ cmd: "resetLog" })),
          autoReset: async (everyMs) => void (await call({ cmd: "autoReset", everyMs })),
          stop: async () => {
            const exited = new Promise((done) => child.once("exit", done))
            await call({ cmd: "stop" })
            await exited
          }
        })
      } else if (reply.id !== undefined) {
        pending.get(reply.id)?.(reply.result)
        pending.delete(reply.id)
      }
    })
  })
