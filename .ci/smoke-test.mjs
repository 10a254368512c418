// `pnpm test:smoke`: the packages as a user gets them. Packs every public package, installs the tarballs into fresh
// projects in a temporary directory (never in the repository), type-checks each project and runs it against the fake
// Cair server on 127.0.0.1:
//
// - esm-nodenext: an ESM TypeScript app, `moduleResolution: nodenext`, compiled by tsc and run by Node;
// - cjs-node:     a plain CommonJS Node app, `require`, type-checked with `tsc --checkJs`;
// - adapter-alone: a CommonJS app with @cair/auth-adapters as its only dependency, which must bring nothing else;
// - bundler:      a TypeScript app with `moduleResolution: bundler`, bundled by esbuild;
// - cli-npx:      the `cair-auth` command line, run with `npx` against the fake server.
//
// Deterministic: every third-party package is pinned to the version in the workspace's pnpm-lock.yaml (direct
// dependencies exactly, transitive ones through `pnpm.overrides`), and installed from the workspace's pnpm store, so
// that after `pnpm install` little or nothing is downloaded. Bounded: every step has a time limit.
//
// Usage: node .ci/smoke-test.mjs [--keep] [project...]   (run `pnpm build` first; `pnpm test:smoke` does)
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { elapsed, pack, pnpm, publicPackages, root, run } from "./packages.mjs"

const args = process.argv.slice(2)
const keep = args.includes("--keep")
const only = args.filter((arg) => !arg.startsWith("--"))

/** Versions in the workspace lockfile, by package name. */
const lockedVersions = () => {
  const text = readFileSync(join(root, "pnpm-lock.yaml"), "utf8")
  const section = text.slice(text.indexOf("\npackages:\n"), text.indexOf("\nsnapshots:\n"))
  /** @type {Map<string, Set<string>>} */
  const versions = new Map()
  for (const line of section.split("\n")) {
    const match = /^ {2}'?((?:@[^@/\s']+\/)?[^@\s']+)@(\d[^\s'():]*)'?:\s*$/.exec(line)
    if (match) versions.set(match[1], (versions.get(match[1]) ?? new Set()).add(match[2]))
  }
  return versions
}

/** @param {string} a @param {string} b */
const compareVersions = (a, b) => {
  const [x, y] = [a, b].map((version) => version.split(/[.+-]/).slice(0, 3).map(Number))
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
}

const locked = lockedVersions()
/** The version of `name` in pnpm-lock.yaml: the highest, when the workspace has several. @param {string} name */
const pinned = (name) => {
  const versions = [...(locked.get(name) ?? [])].sort(compareVersions)
  if (versions.length === 0) throw new Error(`${name} is not in pnpm-lock.yaml`)
  return versions[versions.length - 1]
}

/**
 * @typedef {object} Project
 * @property {string} name the folder under .ci/smoke/ with its sources and tsconfig.json
 * @property {"module" | "commonjs"} type
 * @property {Array<string>} cair the @cair packages it depends on (the others are installed as their dependencies)
 * @property {Array<string>} dependencies third-party packages it depends on, pinned to the workspace's versions
 * @property {Array<Array<string>>} steps commands run in the project, `node_modules/.bin/<tool>` or `node`
 * @property {string} expect a line the last step must print
 */

/** @type {Array<Project>} */
const projects = [
  {
    name: "esm-nodenext",
    type: "module",
    cair: ["@cair/auth", "@cair/auth-adapters", "@cair/auth-testing"],
    dependencies: ["effect", "@effect/platform", "@effect/platform-node"],
    steps: [["tsc", "-p", "tsconfig.json"], ["node", "dist/main.js"]],
    expect: "esm-nodenext: ok"
  },
  {
    // A plain Node app lists the adapter and the fake server only: what they need must come with them.
    name: "cjs-node",
    type: "commonjs",
    cair: ["@cair/auth-adapters", "@cair/auth-testing"],
    dependencies: [],
    steps: [["tsc", "-p", "tsconfig.json"], ["node", "main.js"]],
    expect: "cjs-node: ok"
  },
  {
    // The adapter alone: it bundles what it uses, so nothing else may be installed with it.
    name: "adapter-alone",
    type: "commonjs",
    cair: ["@cair/auth-adapters"],
    dependencies: [],
    steps: [["tsc", "-p", "tsconfig.json"], ["node", "main.js"]],
    expect: "adapter-alone: ok"
  },
  {
    name: "bundler",
    type: "module",
    cair: ["@cair/auth", "@cair/auth-adapters", "@cair/auth-testing"],
    dependencies: ["effect", "@effect/platform", "@effect/platform-node"],
    steps: [
      ["tsc", "-p", "tsconfig.json"],
      [
        "esbuild",
        "src/main.ts",
        "--bundle",
        "--platform=node",
        "--format=cjs",
        "--outfile=dist/main.cjs",
        "--log-level=warning"
      ],
      ["node", "dist/main.cjs"]
    ],
    expect: "bundler: ok"
  },
  {
    // The command line brings its own Effect: the project lists it and the fake server only.
    name: "cli-npx",
    type: "module",
    cair: ["@cair/auth-cli", "@cair/auth-testing"],
    dependencies: [],
    steps: [["tsc", "-p", "tsconfig.json"], ["node", "main.mjs"]],
    expect: "cli-npx: ok"
  }
].filter((project) => only.length === 0 || only.includes(project.name))

const toolVersions = {
  typescript: JSON.parse(readFileSync(join(root, "node_modules/typescript/package.json"), "utf8")).version,
  "@types/node": JSON.parse(readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8")).version,
  esbuild: pinned("esbuild")
}

const startedAt = Date.now()
const workDir = mkdtempSync(join(tmpdir(), "cair-smoke-"))
let failed = 0
try {
  // 1. Pack.
  const tarballsDir = join(workDir, "tarballs")
  mkdirSync(tarballsDir)
  /** @type {Record<string, string>} */
  const tarballs = {}
  for (const pkg of publicPackages()) tarballs[pkg.name] = `file:${pack(pkg, tarballsDir).tarball}`
  console.log(`packed ${Object.keys(tarballs).join(", ")} (${elapsed(startedAt)})`)

  // Every third-party package the workspace locks at one version keeps that version; the @cair packages come from
  // the tarballs, also where another tarball depends on them (@cair/auth-adapters on @cair/auth).
  /** @type {Record<string, string>} */
  const overrides = {}
  for (const [name, versions] of locked) {
    if (versions.size === 1 && !name.startsWith("@cair/")) overrides[name] = [...versions][0]
  }
  Object.assign(overrides, tarballs)
  const storeDir = pnpm(["store", "path"]).stdout.trim()

  // 2. Install, type-check, run: one project at a time.
  for (const project of projects) {
    const projectStartedAt = Date.now()
    const dir = join(workDir, project.name)
    cpSync(join(root, ".ci", "smoke", project.name), dir, { recursive: true })
    const manifest = {
      name: `cair-smoke-${project.name}`,
      version: "0.0.0",
      private: true,
      type: project.type,
      dependencies: Object.fromEntries([
        ...project.cair.map((name) => [name, tarballs[name]]),
        ...project.dependencies.map((name) => [name, pinned(name)])
      ]),
      devDependencies: {
        "@types/node": toolVersions["@types/node"],
        typescript: toolVersions.typescript,
        ...(project.steps.some(([tool]) => tool === "esbuild") ? { esbuild: toolVersions.esbuild } : {})
      },
      pnpm: { overrides }
    }
    writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2) + "\n")

    const install = pnpm([
      "install",
      "--no-frozen-lockfile",
      "--prefer-offline",
      "--ignore-workspace",
      "--config.auto-install-peers=true",
      "--config.strict-peer-dependencies=false",
      `--store-dir=${storeDir}`,
      "--reporter=append-only"
    ], { cwd: dir, timeoutMs: 300_000 })
    let ok = install.ok
    let failure = install.ok ? "" : `pnpm install failed:\n${install.output}`
    let lastOutput = ""
    for (const [tool, ...toolArgs] of ok ? project.steps : []) {
      const command = tool === "node" ? process.execPath : join(dir, "node_modules", ".bin", tool)
      // The app must exit by itself: a timer or socket left open by a package is a failure (a time-out here).
      const result = run(command, toolArgs, { cwd: dir, timeoutMs: tool === "node" ? 60_000 : 180_000 })
      lastOutput = result.output
      if (!result.ok) {
        ok = false
        failure = `${[tool, ...toolArgs].join(" ")} failed (exit ${result.status}):\n${result.output}`
        break
      }
    }
    if (ok && !lastOutput.split("\n").includes(project.expect)) {
      ok = false
      failure = `the app did not print "${project.expect}":\n${lastOutput}`
    }
    if (ok) {
      console.log(`✓ ${project.name}: installed, type-checked and ran (${elapsed(projectStartedAt)})`)
    } else {
      failed++
      console.log(`✗ ${project.name} (${elapsed(projectStartedAt)}): ${failure.trim()}`)
    }
  }
} catch (error) {
  failed++
  console.error(error)
} finally {
  if (keep || failed > 0) console.log(`the projects are kept in ${workDir}`)
  else rmSync(workDir, { recursive: true, force: true })
}
console.log(
  `smoke test on Node ${process.version}: ${
    failed === 0 ? `${projects.length} projects passed` : `${failed} failed`
  } (${elapsed(startedAt)})`
)
process.exitCode = failed === 0 ? 0 : 1
