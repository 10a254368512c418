import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createConnection, createServer } from "node:net"
import type { RedisServer, RedisServerOptions } from "../RedisServer.js"

const binary = (): string =>
  process.env.REDIS_SERVER ?? (existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server")

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))
      )
    })
  })

/** Answers whether a PING on a fresh connection gets `+PONG` within `timeoutMs`. */
const ping = (port: number, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    let reply = ""
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => {
      reply += data.toString("utf8")
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"))
    })
    socket.on("error", () => done(false))
  })

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

const spawnOn = (port: number, options: RedisServerOptions): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const args = [
      "--save",
      "",
      "--appendonly",
      "no",
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      ...(options.args ?? [])
    ]
    const child = spawn(binary(), args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const timeoutMs = options.startTimeoutMs ?? 30_000
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(
        new Error(`redis-server did not get ready on port ${port} within ${timeoutMs} ms:\n${output.slice(-2000)}`)
      )
    }, timeoutMs)
    const onData = (data: Buffer) => {
      output += data.toString("utf8")
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData)
        clearTimeout(timer)
        // Ready by its own word; a PING makes sure the port answers.
        void (async () => {
          for (let i = 0; i < 100; i++) {
            if (await ping(port, 1_000)) return resolve(child)
          }
          child.kill("SIGKILL")
          reject(new Error(`redis-server on port ${port} said it was ready but does not answer PING`))
        })()
      }
    }
    child.stdout?.on("data", onData)
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString("utf8")
    })
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(
        new Error(
          `cannot start redis-server (${binary()}): ${error.message}; install it (apt-get install -y redis-server)`
        )
      )
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`))
    })
  })

/** @internal */
export const start = async (options: RedisServerOptions = {}): Promise<RedisServer> => {
  let port = options.port ?? 0
  let child: ChildProcess | undefined
  for (let attempt = 1; child === undefined; attempt++) {
    const candidate = port === 0 ? await freePort() : port
    try {
      child = await spawnOn(candidate, options)
      port = candidate
    } catch (error) {
      // Another process may have taken the free port in between: try another one.
      if (options.port !== undefined || attempt >= 3) throw error
    }
  }
  let current: ChildProcess = child
  const stopChild = async (signal: NodeJS.Signals) => {
    const exit = exited(current)
    current.kill("SIGCONT")
    current.kill(signal)
    const timer = setTimeout(() => current.kill("SIGKILL"), 10_000)
    await exit
    clearTimeout(timer)
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => current.pid ?? -1,
    pause: () => void current.kill("SIGSTOP"),
    resume: () => void current.kill("SIGCONT"),
    stop: () => stopChild("SIGTERM"),
    kill: () => stopChild("SIGKILL"),
    restart: async () => {
      await stopChild("SIGTERM")
      current = await spawnOn(port, options)
    },
    relaunch: async () => {
      await exited(current)
      current = await spawnOn(port, options)
    },
    ping: (timeoutMs = 1_000) => ping(port, timeoutMs)
  }
}
