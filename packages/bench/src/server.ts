/**
 * The fake Cair server in a child process of its own, so that its work (an Effect HTTP server and a request
 * log) runs on the other core and not on the event loop being measured. Driven over the IPC channel by
 * `FakeServer.ts`; exits once stopped or when the parent goes away.
 */
import { FakeCairServer } from "@cair/auth-testing"

type Command =
  | { readonly id: number; readonly cmd: "count"; readonly path?: string }
  | { readonly id: number; readonly cmd: "setLifetimes"; readonly accessTokenTtlMs: number }
  | { readonly id: number; readonly cmd: "resetLog" }
  | { readonly id: number; readonly cmd: "autoReset"; readonly everyMs: number }
  | { readonly id: number; readonly cmd: "stop" }

const send = (message: unknown) => process.send?.(message)

const handle = await FakeCairServer.start({ accessTokenTtlMs: 10 * 60 * 1000 })
let autoReset: ReturnType<typeof setInterval> | undefined

const stop = async () => {
  clearInterval(autoReset)
  await handle.stop()
}

process.on("message", (command: Command) => {
  switch (command.cmd) {
    case "count":
      return send({ id: command.id, result: handle.count(command.path) })
    case "setLifetimes":
      handle.setLifetimes({ accessTokenTtlMs: command.accessTokenTtlMs })
      return send({ id: command.id })
    case "resetLog":
      handle.resetLog()
      return send({ id: command.id })
    case "autoReset":
      // The request log copies itself on every request: kept short while measuring throughput.
      clearInterval(autoReset)
      autoReset = command.everyMs > 0 ? setInterval(() => handle.resetLog(), command.everyMs) : undefined
      return send({ id: command.id })
    case "stop":
      return void stop().then(() => {
        send({ id: command.id })
        process.disconnect()
      })
  }
})
process.on("disconnect", () => void stop())

send({ ready: true, url: handle.url, credentials: handle.credentials })
