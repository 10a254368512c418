/**
 * Runs the built `cair-auth` (dist/esm/bin.js: run `pnpm build` first) as a child process, the way a shell does,
 * and waits for it to exit by itself: nothing kills it, so a process that would hang fails its test by time-out.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

export const binPath = fileURLToPath(new URL("../../dist/esm/bin.js", import.meta.url))

export interface CliResult {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

const running = new Set<ChildProcess>()

/** Kills what a timed-out test left running, so that it does not outlive the test run. */
export const killLeftovers = (): void => {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
}

/**
 * Runs `cair-auth ...args` with only `env` (and PATH) in its environment and stdin closed (or fed `stdin`).
 * Resolves on the child's `close` event: it has exited and both streams are drained.
 */
export const runCli = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
  options: { readonly stdin?: string; readonly command?: readonly [string, ...Array<string>] } = {}
): Promise<CliResult> => {
  if (!existsSync(binPath)) throw new Error(`${binPath} is missing: run \`pnpm build\` first`)
  const [command, ...prefix] = options.command ?? [process.execPath, binPath]
  const child = spawn(command, [...prefix, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  running.add(child)
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  child.stdin.end(options.stdin ?? "")
  return new Promise((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (exitCode, signal) => {
      running.delete(child)
      resolve({ exitCode, signal, stdout, stderr })
    })
  })
}
