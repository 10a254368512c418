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
// `build` script does) and copied to dist/cjs. They mention no other package: the adapter's public types are its own.
//
// Incremental, like the `tsc -b` before it: the inputs of the last bundle (every file esbuild read, and this script)
// are listed in dist/bundle.json, and nothing is done while none of them changed and the output is there.
//
// Usage: node scripts/bundle.mjs   (`pnpm build` runs it after `tsc -b`; the package's own `build` script too)
import * as esbuild from "esbuild"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
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

/** Every `.js` file under `dir`, as paths relative to it. */
const javascriptFiles = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".js"))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))

/** The modification time of each input, or `undefined` for one that is gone. */
const stamps = (files) =>
  Object.fromEntries(files.map((file) => [file, existsSync(file) ? statSync(file).mtimeMs : undefined]))

/** Whether the last bundle was made from the inputs as they are now, and its output is still there. */
const upToDate = () => {
  if (!existsSync(record) || !existsSync(join(esmDir, "index.js")) || !existsSync(join(cjsDir, "index.js"))) {
    return false
  }
  const last = JSON.parse(readFileSync(record, "utf8")).inputs
  return JSON.stringify(stamps(Object.keys(last))) === JSON.stringify(last)
}

if (upToDate()) process.exit(0)

// The JavaScript in dist/ and all of dist/cjs are this script's alone (tsc emits declarations only, into dist/esm): a
// module or chunk from an earlier build must not linger.
for (const file of javascriptFiles(esmDir)) rmSync(join(esmDir, file))
rmSync(join(esmDir, "chunks"), { recursive: true, force: true })
rmSync(cjsDir, { recursive: true, force: true })

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
  // Readable stack traces in users' logs; the size is no concern (see BENCHMARKS.md, "Footprint").
  minify: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning"
})

for (const file of javascriptFiles(esmDir)) {
  const esm = readFileSync(join(esmDir, file), "utf8")
  const cjs = await esbuild.transform(esm, { format: "cjs", platform: "node", target: "node18", logLevel: "warning" })
  mkdirSync(dirname(join(cjsDir, file)), { recursive: true })
  writeFileSync(join(cjsDir, file), cjs.code)
}
writeFileSync(join(cjsDir, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n")

// The public declarations serve both formats as they are. The internal modules' declarations stay out of the package
// (`files` in package.json): they describe code that lives in the bundle now, and name @cair/auth.
for (const file of readdirSync(esmDir).filter((name) => /\.d\.ts(\.map)?$/.test(name))) {
  writeFileSync(join(cjsDir, file), readFileSync(join(esmDir, file)))
}

const inputs = [script, ...Object.keys(metafile.inputs).map((input) => resolve(packageDir, input))]
writeFileSync(record, JSON.stringify({ inputs: stamps(inputs) }, null, 2) + "\n")
