// The public packages of the workspace and how to pack them, shared by check-packages.mjs and smoke-test.mjs.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** The repository root. */
export const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..")

/**
 * Every package under `packages/` that is not private: what gets published. A `binOnly` package (a command line,
 * `bin` and no `"."` export) has no public modules: it is ESM only, and its `src/` files are the bins' sources.
 *
 * @returns {Array<{ dir: string, name: string, version: string, manifest: any, modules: Array<string>, binOnly: boolean }>}
 */
export const publicPackages = () =>
  readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, "packages", entry.name, "package.json")))
    .map((entry) => {
      const dir = join(root, "packages", entry.name)
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
      const binOnly = manifest.bin !== undefined && manifest.exports?.["."] === undefined
      // A public module is a file directly in src/ (the bodies live in src/internal/).
      const modules = binOnly ? [] : readdirSync(join(dir, "src"))
        .filter((file) => file.endsWith(".ts") && file !== "index.ts")
        .map((file) => file.slice(0, -".ts".length))
        .sort()
      return { dir, name: manifest.name, version: manifest.version, manifest, modules, binOnly }
    })
    .filter((pkg) => pkg.manifest.private !== true)

/**
 * Runs a command without a shell, with a time limit. Never throws: look at `ok`.
 *
 * @param {string} command
 * @param {ReadonlyArray<string>} args
 * @param {{ cwd?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv, inherit?: boolean }} [options]
 */
export const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 120_000,
    killSignal: "SIGKILL",
    maxBuffer: 64 * 1024 * 1024,
    stdio: options.inherit ? "inherit" : "pipe"
  })
  const timedOut = result.error?.code === "ETIMEDOUT"
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${
    result.error ? `\n${timedOut ? `timed out after ${options.timeoutMs ?? 120_000} ms` : result.error.message}` : ""
  }`
  return { ok: result.status === 0 && !result.error, status: result.status, stdout: result.stdout ?? "", output }
}

/**
 * Runs the pnpm that runs this script (`npm_execpath`), so that a CI which fetched pnpm with npx needs no global
 * install; falls back to `pnpm` on the PATH.
 *
 * @param {ReadonlyArray<string>} args
 * @param {Parameters<typeof run>[2]} [options]
 */
export const pnpm = (args, options) => {
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm/.test(execPath) && /\.[cm]?js$/.test(execPath)) {
    return run(process.execPath, [execPath, ...args], options)
  }
  return run(execPath && /pnpm/.test(execPath) ? execPath : "pnpm", args, options)
}

/**
 * Packs a package with pnpm (which rewrites `workspace:` ranges to real ones, as `pnpm publish` does) from its
 * current `dist/`. Build first.
 *
 * @param {{ dir: string, name: string, binOnly: boolean }} pkg
 * @param {string} destination
 * @returns {{ tarball: string, files: Array<string> }}
 */
export const pack = (pkg, destination) => {
  if (!existsSync(join(pkg.dir, "dist", "esm")) || (!pkg.binOnly && !existsSync(join(pkg.dir, "dist", "cjs")))) {
    throw new Error(`${pkg.name} is not built: run \`pnpm build\` first`)
  }
  const result = pnpm(["pack", "--json", "--pack-destination", destination], { cwd: pkg.dir })
  if (!result.ok) throw new Error(`pnpm pack failed for ${pkg.name}:\n${result.output}`)
  const report = JSON.parse(result.stdout.slice(result.stdout.indexOf("{")))
  return { tarball: report.filename, files: report.files.map((file) => file.path) }
}

/**
 * Runs the command-line tool `bin` of the root devDependency `packageName` with this Node, without relying on the PATH.
 *
 * @param {string} packageName
 * @param {string} bin
 * @param {ReadonlyArray<string>} args
 * @param {Parameters<typeof run>[2]} [options]
 */
export const tool = (packageName, bin, args, options) => {
  const directory = join(root, "node_modules", packageName)
  const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8"))
  const path = typeof manifest.bin === "string" ? manifest.bin : manifest.bin[bin]
  return run(process.execPath, [join(directory, path), ...args], options)
}

/** @param {number} startedAt */
export const elapsed = (startedAt) => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`
