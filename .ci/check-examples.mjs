// Type-checks every ```ts example in the JSDoc of the public modules (`packages/*/src/*.ts`) against the built packages,
// as an app would import them: each example is a module of an ESM project (`moduleResolution: nodenext`, strict) in a
// temporary directory, whose node_modules link to the workspace's packages. `pnpm docs` runs it after TypeDoc.
//
// Usage: node .ci/check-examples.mjs   (run `pnpm build` first)
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { publicPackages, root, run } from "./packages.mjs"

const packages = publicPackages()
const dir = mkdtempSync(join(tmpdir(), "cair-examples-"))
let failed = false
try {
  // node_modules: the @cair packages, and the third-party packages their examples import, from the workspace.
  /** @param {string} name @param {string} target */
  const link = (name, target) => {
    mkdirSync(dirname(join(dir, "node_modules", name)), { recursive: true })
    symlinkSync(realpathSync(target), join(dir, "node_modules", name), "junction")
  }
  for (const pkg of packages) link(pkg.name, pkg.dir)
  const testing = packages.find((pkg) => pkg.name === "@cair/auth-testing")
  for (const name of ["effect", "@effect/platform", "@effect/platform-node"]) {
    link(name, join(testing?.dir ?? join(root, "packages", "auth-testing"), "node_modules", name))
  }
  link("@types/node", join(root, "node_modules", "@types", "node"))

  /** @type {Map<string, { path: string, line: number }>} example file -> the source file and its first line there */
  const origins = new Map()
  for (const pkg of packages) {
    for (const file of readdirSync(join(pkg.dir, "src")).filter((file) => file.endsWith(".ts")).sort()) {
      const source = readFileSync(join(pkg.dir, "src", file), "utf8")
      const lines = source.split("\n")
      for (let index = 0; index < lines.length; index++) {
        if (!/^\s*\*\s*```ts\s*$/.test(lines[index])) continue
        const start = index + 1
        const body = []
        while (++index < lines.length && !/^\s*\*\s*```\s*$/.test(lines[index])) {
          body.push(lines[index].replace(/^\s*\* ?/, ""))
        }
        const name = `${pkg.name.replace("@cair/", "")}.${file.replace(/\.ts$/, "")}.L${start + 1}.ts`
        origins.set(name, { path: relative(root, join(pkg.dir, "src", file)), line: start + 1 })
        writeFileSync(join(dir, name), `${body.join("\n")}\nexport {}\n`)
      }
    }
  }

  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cair-examples", private: true, type: "module" }))
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "ESNext.Disposable", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"]
      },
      include: ["*.ts"]
    })
  )
  const tsc = run(process.execPath, [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    dir,
    "--pretty",
    "false"
  ], {
    cwd: dir,
    timeoutMs: 180_000
  })
  if (tsc.ok) {
    console.log(`check-examples: ${origins.size} examples type-check`)
  } else {
    failed = true
    // `<example file>(line,col): error ...` -> `packages/<pkg>/src/<Module>.ts:<line>: error ...`
    console.log(
      tsc.output.replace(/^(\S+?\.ts)\((\d+),\d+\)/gm, (match, file, line) => {
        const origin = origins.get(file)
        return origin ? `${origin.path}:${origin.line + Number(line) - 1}` : match
      })
    )
    console.log("check-examples: an example does not type-check")
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
