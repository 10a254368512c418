// `pnpm check:packages`: packs every public package the way `pnpm publish` would, then checks each tarball.
//
// - the manifest: one `exports` entry (and one `typesVersions` entry, for `moduleResolution: node10`) per public
//   module `src/<Module>.ts`, `sideEffects: false`, Effect as a peer dependency; a self-contained package
//   (@cair/auth-adapters) has no runtime dependency at all;
// - a command line (`bin` and no "." export, @cair/auth-cli): ESM only, `exports` has only ./package.json, every
//   bin is a built file with a `#!/usr/bin/env node` line, and Effect is a plain dependency (a tool brings its own);
// - the tarball's contents: dist, src, README.md, CHANGELOG.md, LICENSE, no build output without a source in src/
//   (a stale dist/), and nothing from test/ or scratch files; in a self-contained package, no `import`, `require` or
//   declaration that names a package other than Node's own and the optional add-ons it loads on demand;
// - publint --strict (its warnings fail too) and @arethetypeswrong/cli (every entry point under node10, node16 from
//   CJS, node16 from ESM and bundler resolution).
//
// Run after `pnpm build` (the script `check:packages` builds first). Exits non-zero on any problem.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { builtinModules } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { elapsed, pack, publicPackages, tool } from "./packages.mjs"

// Effect apps bring their own `effect` and `@effect/platform`: one copy in the app, shared with @cair/auth. The
// Promise adapter is for apps that do not use Effect: no Effect value crosses its API, so it ships the parts of
// @cair/auth and Effect it uses bundled into its dist/ (packages/auth-adapters/scripts/bundle.mjs) and depends on
// nothing. What it may still load, on demand only: Node's built-in modules and these optional add-ons; and the
// optional peer @opentelemetry/api, never loaded, only named for the versions whose MeterProvider it takes.
const selfContained = new Map([["@cair/auth-adapters", ["@cair/auth-redis", "@opentelemetry/api"]]])
const effectPackages = ["effect", "@effect/platform", "@effect/platform-node"]

/** The bins of a package, as `[name, path]`. @param {any} manifest */
const bins = (manifest) =>
  typeof manifest.bin === "string"
    ? [[manifest.name.replace(/^@[^/]+\//, ""), manifest.bin]]
    : Object.entries(manifest.bin ?? {})

/** The fields every published manifest has. @param {any} manifest */
const checkCommonFields = (manifest) => {
  const problems = []
  if (manifest.sideEffects !== false) problems.push("sideEffects should be false")
  if (manifest.license !== "MIT") problems.push("license should be MIT")
  for (const field of ["description", "repository", "engines", "keywords", "files"]) {
    if (manifest[field] === undefined) problems.push(`${field} is missing`)
  }
  return problems
}

/** @param {ReturnType<typeof publicPackages>[number]} pkg */
const checkBinManifest = (pkg) => {
  const problems = checkCommonFields(pkg.manifest)
  const { manifest } = pkg
  if (JSON.stringify(manifest.exports) !== JSON.stringify({ "./package.json": "./package.json" })) {
    problems.push(`exports should be exactly {"./package.json": "./package.json"} (a command line has no modules)`)
  }
  if (manifest.type !== "module") problems.push(`type should be "module" (a command line is ESM only)`)
  for (const [name, path] of bins(manifest)) {
    if (!/^\.\/dist\/esm\/[\w-]+\.js$/.test(path)) problems.push(`bin "${name}" should be ./dist/esm/<file>.js`)
    else if (!existsSync(join(pkg.dir, path))) problems.push(`bin "${name}": ${path} is not built`)
    else if (!readFileSync(join(pkg.dir, path), "utf8").startsWith("#!/usr/bin/env node\n")) {
      problems.push(`bin "${name}": ${path} should start with #!/usr/bin/env node`)
    }
  }
  for (const name of effectPackages) {
    if (manifest.peerDependencies?.[name] !== undefined || manifest.dependencies?.[name] === undefined) {
      problems.push(`${name} should be a plain dependency (a command line brings its own)`)
    }
  }
  return problems
}

/** @param {ReturnType<typeof publicPackages>[number]} pkg */
const checkManifest = (pkg) => {
  if (pkg.binOnly) return checkBinManifest(pkg)
  const problems = []
  const { manifest, modules } = pkg
  const expected = [".", ...modules.map((module) => `./${module}`), "./package.json"].sort()
  const actual = Object.keys(manifest.exports ?? {}).sort()
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    problems.push(`exports should have exactly ${expected.join(", ")}; it has ${actual.join(", ")}`)
  }
  for (const module of modules) {
    const entry = manifest.exports?.[`./${module}`]
    const wanted = {
      import: { types: `./dist/esm/${module}.d.ts`, default: `./dist/esm/${module}.js` },
      require: { types: `./dist/cjs/${module}.d.ts`, default: `./dist/cjs/${module}.js` }
    }
    if (entry && JSON.stringify(entry) !== JSON.stringify(wanted)) {
      problems.push(`exports["./${module}"] should be ${JSON.stringify(wanted)}`)
    }
    if (JSON.stringify(manifest.typesVersions?.["*"]?.[module]) !== JSON.stringify([`./dist/cjs/${module}.d.ts`])) {
      problems.push(`typesVersions["*"]["${module}"] should be ["./dist/cjs/${module}.d.ts"]`)
    }
  }
  const typesVersions = Object.keys(manifest.typesVersions?.["*"] ?? {}).sort()
  if (JSON.stringify(typesVersions) !== JSON.stringify(modules)) {
    problems.push(`typesVersions["*"] should map exactly ${modules.join(", ")}; it maps ${typesVersions.join(", ")}`)
  }
  problems.push(...checkCommonFields(manifest))
  if (selfContained.has(pkg.name)) {
    const optional = selfContained.get(pkg.name)
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      problems.push(`${name} should not be a dependency (this package bundles what it uses)`)
    }
    for (const name of Object.keys(manifest.peerDependencies ?? {})) {
      if (!optional.includes(name) || manifest.peerDependenciesMeta?.[name]?.optional !== true) {
        problems.push(`${name} should not be a peer dependency (only the optional add-ons may be, marked optional)`)
      }
    }
  } else {
    for (const name of effectPackages) {
      if (manifest.dependencies?.[name] !== undefined) {
        problems.push(`${name} should be a peer dependency (the app provides it), not a dependency`)
      }
    }
  }
  return problems
}

/** A bare specifier's package name: `effect` of `effect/Schema`, `@effect/platform` of `@effect/platform/HttpClient`. */
const packageOf = (specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/")

/**
 * The packages the built files of a self-contained package import, require or name in a declaration, other than
 * Node's built-in modules and its optional add-ons: there should be none.
 *
 * @param {ReturnType<typeof publicPackages>[number]} pkg
 * @param {Array<string>} files
 */
const checkSelfContained = (pkg, files) => {
  const optional = selfContained.get(pkg.name)
  if (optional === undefined) return []
  const problems = []
  const specifiers = /\b(?:from|import|require)\s*\(?\s*["']([^"'./][^"']*)["']/g
  for (const file of files.filter((file) => /^dist\/.*\.(?:js|d\.ts)$/.test(file))) {
    const text = readFileSync(join(pkg.dir, file), "utf8")
    for (const [, specifier] of text.matchAll(specifiers)) {
      const name = packageOf(specifier)
      if (specifier.startsWith("node:") || builtinModules.includes(name) || optional.includes(name)) continue
      // Examples in doc comments import the package itself.
      if (name === pkg.name) continue
      problems.push(`${file} loads ${specifier}: bundle it (or make it an optional add-on)`)
    }
  }
  return [...new Set(problems)]
}

/**
 * @param {ReturnType<typeof publicPackages>[number]} pkg
 * @param {Array<string>} files
 */
const checkContents = (pkg, files) => {
  const problems = []
  const entryPoints = pkg.binOnly
    ? bins(pkg.manifest).map(([, path]) => path.replace(/^\.\//, ""))
    : ["dist/esm/index.js"]
  for (const required of ["package.json", "README.md", "CHANGELOG.md", "LICENSE", ...entryPoints]) {
    if (!files.includes(required)) problems.push(`the tarball has no ${required}`)
  }
  if (!pkg.binOnly && !files.includes("dist/cjs/package.json")) {
    problems.push("the tarball has no CommonJS marker dist/cjs/package.json")
  }
  for (const file of files) {
    if (/(^|\/)(test|\.scratch|coverage|node_modules)\/|\.tsbuildinfo$|\.test\.[cm]?[jt]s$/.test(file)) {
      problems.push(`the tarball should not contain ${file}`)
    }
    // `pnpm build` does not empty dist/: a module deleted or renamed in src/ leaves its old output behind. (The
    // shared code of a bundle is in dist/*/chunks/, emptied by each bundling.)
    const output = /^dist\/(?:esm|cjs)\/(.+?)\.(?:js|d\.ts)(?:\.map)?$/.exec(file)
    const chunk = selfContained.has(pkg.name) && /^dist\/(?:esm|cjs)\/chunks\/[^/]+\.js(?:\.map)?$/.test(file)
    if (output && !chunk && !existsSync(join(pkg.dir, "src", `${output[1]}.ts`))) {
      problems.push(`${file} has no source in src/: a stale build (run \`pnpm -r clean\`, then \`pnpm build\`)`)
    }
  }
  return problems
}

const startedAt = Date.now()
const destination = mkdtempSync(join(tmpdir(), "cair-check-packages-"))
let failed = 0
try {
  for (const pkg of publicPackages()) {
    console.log(`\n=== ${pkg.name}@${pkg.version}`)
    const { files, tarball } = pack(pkg, destination)
    console.log(`packed ${files.length} files`)
    const problems = [...checkManifest(pkg), ...checkContents(pkg, files), ...checkSelfContained(pkg, files)]
    for (const problem of problems) console.log(`  ✗ ${problem}`)
    if (problems.length > 0) failed++
    else console.log("manifest and contents: ok")

    const publint = tool("publint", "publint", ["run", tarball, "--strict"], {
      timeoutMs: 120_000,
      env: { ...process.env, NO_COLOR: "1" }
    })
    console.log(publint.output.trim())
    if (!publint.ok) failed++

    const attw = tool("@arethetypeswrong/cli", "attw", [
      tarball,
      "--profile",
      "strict",
      "--format",
      "table-flipped",
      "--no-color"
    ], {
      timeoutMs: 180_000
    })
    console.log(attw.output.trim())
    if (!attw.ok) failed++
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
console.log(
  `\ncheck:packages: ${failed === 0 ? "all packages clean" : `${failed} check(s) failed`} (${elapsed(startedAt)})`
)
process.exitCode = failed === 0 ? 0 : 1
