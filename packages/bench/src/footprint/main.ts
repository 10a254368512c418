/**
 * `pnpm footprint`: what a plain Node user pays for a token client before the first request, measured for
 * `@cair/auth-adapters` as built in this tree and for google-auth-library, `@azure/identity`, openid-client and
 * simple-oauth2, in one run:
 *
 * - packages installed and bytes installed: each subject installed alone with npm into a project of its own in a
 *   temporary directory (never in the repository), the adapter from the tarball `pnpm pack` makes of this build;
 * - `require()` and `import` cold time: a fresh `node -e` that loads the package, wall time, median over the rounds
 *   (subjects interleaved), also shown less a bare `node -e 0` of the same round;
 * - heap per additional client: `heapProbe.cjs` in a fresh process makes 1,000 clients each holding a token from the
 *   local token server (`tokenServer.ts`), after a warm-up of 200 made and dropped, and divides the heap growth
 *   after forced collections; for the adapter, once more with an `onEvent` observer on each client.
 *
 * `--baseline DIR`: also measures the adapter of the tarballs in DIR (`pnpm pack` of `@cair/auth-adapters` and, if
 * that version depends on it, `@cair/auth`), e.g. an earlier commit's, in the same run. `--keep` keeps the projects.
 * Needs the npm registry (the peers are installed from it, pinned below) and openssl. Prints one Markdown table.
 */
import { fork, spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { median } from "../Report.js"
import * as TokenServer from "./tokenServer.js"

const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    keep: { type: "boolean", default: false },
    rounds: { type: "string", default: "10" },
    clients: { type: "string", default: "1000" }
  }
})
const rounds = Number(args.rounds)
const clients = Number(args.clients)

/** The peers, at their newest releases that install on Node 20 (the newest google-auth-library wants Node 22). */
const peers: ReadonlyArray<readonly [name: string, version: string]> = [
  ["google-auth-library", "10.9.1"],
  ["@azure/identity", "4.13.1"],
  ["openid-client", "6.9.0"],
  ["simple-oauth2", "5.1.0"]
]

interface Subject {
  readonly label: string
  /** What `require()` loads, and the subject of heapProbe.cjs. */
  readonly name: string
  readonly dependencies: Record<string, string>
  readonly overrides?: Record<string, string>
  dir?: string
}

const run = (command: string, commandArgs: ReadonlyArray<string>, cwd: string, timeoutMs = 300_000) => {
  const result = spawnSync(command, commandArgs, { cwd, encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" })
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(" ")} failed in ${cwd}:\n${result.stdout}${result.stderr}`)
  }
  return result.stdout
}

const benchDir = fileURLToPath(new URL("../..", import.meta.url))
const adapterDir = join(benchDir, "..", "auth-adapters")

/** The tarball of `pattern` in `dir`. */
const tarball = (dir: string, pattern: RegExp): string | undefined => {
  const file = readdirSync(dir).find((name) => pattern.test(name))
  return file === undefined ? undefined : join(dir, file)
}

/** Counts the installed packages (every folder with a package.json right under a node_modules) and their bytes. */
const installed = (dir: string) => {
  let packages = 0
  let bytes = 0
  const walk = (folder: string, inNodeModules: boolean) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) {
        if (inNodeModules && entry.name.startsWith("@")) {
          for (const scoped of readdirSync(path, { withFileTypes: true })) {
            if (!scoped.isDirectory()) continue
            packages++
            walk(join(path, scoped.name), false)
          }
        } else if (inNodeModules && entry.name !== ".bin" && !entry.name.startsWith(".")) {
          packages++
          walk(path, false)
        } else {
          walk(path, entry.name === "node_modules")
        }
      } else if (entry.isFile() && entry.name !== ".package-lock.json") {
        bytes += statSync(path).size
      }
    }
  }
  walk(join(dir, "node_modules"), true)
  return { packages, bytes }
}

/** Wall time of one fresh Node process running `code`, in milliseconds. */
const coldStart = (dir: string, code: string, module: boolean): number => {
  const started = performance.now()
  const nodeArgs = module ? ["--input-type=module", "-e", code] : ["-e", code]
  run(process.execPath, nodeArgs, dir, 60_000)
  return performance.now() - started
}

const heapPerClient = (subject: Subject, server: TokenServer.TokenServer, variant = ""): Promise<number> =>
  new Promise((resolve, reject) => {
    const azure = subject.name === "@azure/identity"
    const child = fork(join(subject.dir!, "heapProbe.cjs"), [
      subject.name,
      String(clients),
      azure ? server.https : server.http,
      variant
    ], {
      cwd: subject.dir!,
      execArgv: ["--expose-gc"],
      // The https server's certificate is self-signed; only the Azure probe talks to it.
      env: azure ? { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: "0", NODE_NO_WARNINGS: "1" } : process.env,
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000)
    let bytes: number | undefined
    child.on("message", (message: { readonly bytesPerClient: number }) => (bytes = message.bytesPerClient))
    child.once("error", reject)
    child.once("exit", (code) => {
      clearTimeout(timer)
      if (bytes === undefined) reject(new Error(`heap probe of ${subject.label} exited with ${code}`))
      else resolve(bytes)
    })
  })

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const ms = (value: number) => `${value.toFixed(0)} ms`

const workDir = mkdtempSync(join(tmpdir(), "cair-footprint-"))
const server = await TokenServer.start(workDir)
try {
  // 1. The subjects, each installed alone.
  const tarballs = join(workDir, "tarballs")
  mkdirSync(tarballs)
  run("pnpm", ["pack", "--pack-destination", tarballs], adapterDir)
  const adapter = tarball(tarballs, /^cair-auth-adapters-.*\.tgz$/)!
  const subjects: Array<Subject> = [
    {
      label: "@cair/auth-adapters (this build)",
      name: "@cair/auth-adapters",
      dependencies: { "@cair/auth-adapters": `file:${adapter}` }
    }
  ]
  if (args.baseline !== undefined) {
    const baselineAdapter = tarball(args.baseline, /^cair-auth-adapters-.*\.tgz$/)
    if (baselineAdapter === undefined) throw new Error(`no cair-auth-adapters-*.tgz in ${args.baseline}`)
    const core = tarball(args.baseline, /^cair-auth-\d.*\.tgz$/)
    subjects.push({
      label: "@cair/auth-adapters (baseline)",
      name: "@cair/auth-adapters",
      dependencies: { "@cair/auth-adapters": `file:${baselineAdapter}` },
      ...(core === undefined ? {} : { overrides: { "@cair/auth": `file:${core}` } })
    })
  }
  for (const [name, version] of peers) {
    subjects.push({ label: `${name} ${version}`, name, dependencies: { [name]: version } })
  }

  const sizes = new Map<Subject, ReturnType<typeof installed>>()
  for (const [index, subject] of subjects.entries()) {
    const dir = join(workDir, `subject-${index}`)
    mkdirSync(dir)
    const manifest = {
      name: `footprint-${index}`,
      version: "0.0.0",
      private: true,
      dependencies: subject.dependencies,
      overrides: subject.overrides
    }
    writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2))
    copyFileSync(fileURLToPath(new URL("heapProbe.cjs", import.meta.url)), join(dir, "heapProbe.cjs"))
    run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], dir)
    subject.dir = dir
    sizes.set(subject, installed(dir))
  }

  // 2. Cold starts, interleaved: bare node, then each subject's require() and import, in a rotated order.
  const times = new Map<string, Array<number>>()
  const record = (key: string, value: number) => times.set(key, [...(times.get(key) ?? []), value])
  for (let round = 0; round < rounds; round++) {
    record("bare", coldStart(workDir, "0", false))
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(i + round) % subjects.length]!
      const id = JSON.stringify(subject.name)
      record(`require ${subject.label}`, coldStart(subject.dir!, `require(${id})`, false))
      record(`import ${subject.label}`, coldStart(subject.dir!, `await import(${id})`, true))
    }
  }
  const time = (key: string) => median(times.get(key)!)

  // 3. Heap per client, one fresh process each.
  const heap = new Map<Subject, number>()
  for (const subject of subjects) heap.set(subject, await heapPerClient(subject, server))
  const withObserver = await heapPerClient(subjects[0]!, server, "onEvent")

  const bare = time("bare")
  const lines = [
    `Node ${process.version}, ${rounds} rounds, ${clients} clients per heap probe; bare \`node -e 0\`: ${ms(bare)}`,
    "",
    "| subject | packages installed | bytes installed | `require()` | `import` | heap per client (with a token) |",
    "|---|---|---|---|---|---|"
  ]
  for (const subject of subjects) {
    const { bytes, packages } = sizes.get(subject)!
    const required = time(`require ${subject.label}`)
    const imported = time(`import ${subject.label}`)
    lines.push(
      `| ${subject.label} | ${packages} | ${mb(bytes)} | ${ms(required)} (+${ms(required - bare)}) | ${
        ms(imported)
      } (+${ms(imported - bare)}) | ${kib(heap.get(subject)!)} |`
    )
  }
  lines.push("", `${subjects[0]!.label} with an \`onEvent\` observer: ${kib(withObserver)} per client`)
  process.stdout.write(lines.join("\n") + "\n")
} finally {
  await server.stop()
  if (args.keep) process.stderr.write(`footprint: the projects are kept in ${workDir}\n`)
  else rmSync(workDir, { recursive: true, force: true })
}
