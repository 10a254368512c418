// Builds the JavaScript of @cair/auth-adapters as a self-contained package: the adapter, @cair/auth and the parts of
// Effect they use, bundled and tree-shaken from the ESM sources, so that a plain Node user installs one package with
// no runtime dependency (see the package's README, "What gets installed").
//
// - dist/esm: one esbuild run over both entry points with code splitting: the code the entry points share lives once,
//   in dist/esm/chunks/, so `@cair/auth-adapters` and `@cair/auth-adapters/CairAuthClient` hand out the same classes.
// - dist/cjs: each file of dist/esm turned into CommonJS as it is (esbuild's transform, no second bundle), so both
//   formats run the same tree-shaken code and CommonJS gets no copy of Effect's CommonJS build (which does not
//   tree-shake).
//
// The declarations (`.d.ts`) are tsc's, emitted into dist/esm (run `tsc -p tsconfig.build.json` first: the package's
// `build` script does) and copied to dist/cjs on every run. They mention no other package: the adapter's public types
// are its own.
//
// Incremental, like the `tsc -b` before it: dist/bundle.json lists the inputs of the last bundle (every file esbuild
// read, the package.json files that steered its resolution, and this script) and its outputs, each with its size and
// modification time; nothing is bundled while all of them are as listed. An input modified while a bundle runs leaves
// no record behind, so the next run bundles again.
//
// Usage: node scripts/bundle.mjs   (`pnpm build` runs it after `tsc -b`; the package's own `build` script too)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { basename, dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(import.meta.url)
const packageDir = join(dirname(script), "..")
const esmDir = join(packageDir, "dist", "esm")
const cjsDir = join(packageDir, "dist", "cjs")
const record = join(packageDir, "dist", "bundle.json")

/**
 * Loaded at run time when the caller asks for it, never bundled: optional add-ons with dependencies of their own
 * (the Redis token store brings `redis`) stay out of the package, and out of the process that does not use them.
 */
const optional = ["@cair/auth-redis"]

/** Every `.js` file and source map of one under `dir`, as paths relative to it. */
const javascriptFiles = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.js(\.map)?$/.test(entry.name))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))

/** The size and modification time of each file, or `null` for one that is gone. */
const stamps = (files) =>
  Object.fromEntries(files.map((file) => {
    const stat = statSync(file, { throwIfNoEntry: false })
    return [file, stat === undefined ? null : [stat.size, stat.mtimeMs]]
  }))

/** Whether the last bundle was made from the inputs as they are now, and its outputs are still as it wrote them. */
const upToDate = () => {
  if (!existsSync(record)) return false
  const { inputs, outputs } = JSON.parse(readFileSync(record, "utf8"))
  const unchanged = (files) =>
    files !== undefined && JSON.stringify(stamps(Object.keys(files))) === JSON.stringify(files)
  return unchanged(inputs) && unchanged(outputs)
}

/** The public declarations (tsc's, in dist/esm) serve both formats as they are: copied where they differ. */
const copyDeclarations = () => {
  for (const file of readdirSync(esmDir).filter((name) => /\.d\.ts(\.map)?$/.test(name))) {
    const declarations = readFileSync(join(esmDir, file))
    const copy = join(cjsDir, file)
    if (!existsSync(copy) || !readFileSync(copy).equals(declarations)) writeFileSync(copy, declarations)
  }
}

if (upToDate()) {
  // Declarations are no input of esbuild's: a change to types alone reaches them without a new bundle.
  copyDeclarations()
  process.exit(0)
}

/**
 * Effect's logger module reads `process.stdout` when it loads (for the colours of its pretty logger), and Node then
 * makes the stream: for a pipe that costs milliseconds of every `require()` (BENCHMARKS.md, "Footprint"). The adapter
 * never uses the pretty logger: marked pure, these constants are dropped with it (and kept as they are in a bundle
 * that uses it). An Effect whose logger reads differently fails the build, so that the cost does not come back
 * unnoticed.
 */
const pureStdoutChecks = {
  name: "pure-stdout-checks",
  setup(build) {
    build.onLoad({ filter: /[\\/]effect[\\/]dist[\\/]esm[\\/]internal[\\/]logger\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8")
      const constants = /^const (hasProcessStdout|processStdoutIsTTY|hasProcessStdoutOrDeno) = (.+);$/gm
      const found = [...source.matchAll(constants)].length
      if (found !== 3) {
        throw new Error(`expected 3 process.stdout checks in ${args.path}, found ${found}: update pureStdoutChecks`)
      }
      return { contents: source.replace(constants, "const $1 = /* @__PURE__ */ (() => $2)();"), loader: "js" }
    })
  }
}

// The JavaScript in dist/ and all of dist/cjs are this script's alone (tsc emits declarations only, into dist/esm): a
// module or chunk from an earlier build must not linger.
rmSync(record, { force: true })
for (const file of javascriptFiles(esmDir)) rmSync(join(esmDir, file))
rmSync(join(esmDir, "chunks"), { recursive: true, force: true })
rmSync(cjsDir, { recursive: true, force: true })

const started = Date.now()
const esbuild = await import("esbuild")
const { metafile } = await esbuild.build({
  absWorkingDir: packageDir,
  entryPoints: ["src/index.ts", "src/CairAuthClient.ts"],
  outdir: esmDir,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node18",
  external: optional,
  treeShaking: true,
  // Minified, a third of the bytes for V8 to parse on every cold start (BENCHMARKS.md, "Footprint"). Error names,
  // tags and messages are strings and stay as they are; stack frames are mapped back to the TypeScript sources by
  // the source maps next to each file (`node --enable-source-maps`), which hold no sources, only positions.
  minify: true,
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [pureStdoutChecks]
})

const sourceMappingUrl = /\/\/# sourceMappingURL=.*\n?$/
for (const file of javascriptFiles(esmDir).filter((name) => name.endsWith(".js"))) {
  // The ESM file with its map inline, so that the CommonJS file's map leads to the same sources.
  const map = readFileSync(join(esmDir, `${file}.map`))
  const esm = readFileSync(join(esmDir, file), "utf8").replace(sourceMappingUrl, "") +
    `//# sourceMappingURL=data:application/json;base64,${map.toString("base64")}\n`
  const cjs = await esbuild.transform(esm, {
    format: "cjs",
    platform: "node",
    target: "node18",
    minify: true,
    sourcemap: "external",
    sourcesContent: false,
    sourcefile: basename(file),
    logLevel: "warning"
  })
  mkdirSync(dirname(join(cjsDir, file)), { recursive: true })
  writeFileSync(join(cjsDir, file), `${cjs.code}//# sourceMappingURL=${basename(file)}.map\n`)
  writeFileSync(join(cjsDir, `${file}.map`), cjs.map)
}
writeFileSync(join(cjsDir, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n")

// The internal modules' declarations stay out of the package (`files` in package.json): they describe code that lives
// in the bundle now, and name @cair/auth.
copyDeclarations()

/**
 * The package.json files above each file, up to its package's own (the one with a name): their `exports`, `type` and
 * `sideEffects` steer what esbuild takes.
 */
const manifests = (files) => {
  const found = new Set()
  for (const start of new Set(files.map(dirname))) {
    for (let dir = start; dirname(dir) !== dir; dir = dirname(dir)) {
      const manifest = join(dir, "package.json")
      if (!existsSync(manifest)) continue
      found.add(manifest)
      if (JSON.parse(readFileSync(manifest, "utf8")).name !== undefined) break
    }
  }
  return [...found]
}

const read = Object.keys(metafile.inputs).map((input) => resolve(packageDir, input))
const inputs = stamps([script, ...read, ...manifests(read)])
const outputs = stamps([
  ...javascriptFiles(esmDir).map((file) => join(esmDir, file)),
  ...javascriptFiles(cjsDir).map((file) => join(cjsDir, file)),
  join(cjsDir, "package.json")
])
// An input modified since the bundle started may have been read before or after the change: no record, no skip.
if (Object.values(inputs).every((stamp) => stamp !== null && stamp[1] < started)) {
  writeFileSync(record, JSON.stringify({ inputs, outputs }, null, 2) + "\n")
}
