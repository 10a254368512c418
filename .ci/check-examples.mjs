// Checks the code a reader copies: every ```ts example in the JSDoc of the public modules (`packages/*/src/*.ts`),
// and every ```ts and ```js block of the README files (README.md, packages/*/README.md, examples/*/README.md).
// Each is a module of an app in a temporary directory whose node_modules link to the workspace's built packages (ESM,
// `moduleResolution: nodenext`, strict; a ```js block is checked with `checkJs`, as CommonJS if it calls `require`).
//
// - A JSDoc example must type-check.
// - A README block must type-check, and if it is a complete program (its top level does something: a call, an
//   `await`, not only imports and declarations) it is run: with Node, or with vitest if it imports vitest. It runs
//   against a fake Cair server on 127.0.0.1 whose URL and credentials are in CAIR_BASE_URL, CAIR_CLIENT_ID and
//   CAIR_CLIENT_SECRET, and must exit 0 by itself and print neither the secret nor a token. A block that is neither
//   a module of declarations that type-checks nor a program that runs (a fragment using names it never defines) is
//   refused.
//
// `pnpm docs` runs it after TypeDoc. Usage: node .ci/check-examples.mjs   (run `pnpm build` first)
import { execFile } from "node:child_process"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import { publicPackages, root, run } from "./packages.mjs"

const ts = createRequire(join(root, "package.json"))("typescript")

/**
 * @typedef {object} Example
 * @property {string} file its file name in the temporary project
 * @property {string} path the file it comes from, relative to the repository root
 * @property {number} line the line of `path` its first line comes from
 * @property {boolean} readme a README block (else a JSDoc example)
 * @property {string} code
 */

/** The ```ts examples of the JSDoc of one source file. @returns {Array<Omit<Example, "file">>} */
const jsdocExamples = (path) => {
  const lines = readFileSync(join(root, path), "utf8").split("\n")
  const examples = []
  for (let index = 0; index < lines.length; index++) {
    if (!/^\s*\*\s*```ts\s*$/.test(lines[index])) continue
    const line = index + 2
    const body = []
    while (++index < lines.length && !/^\s*\*\s*```\s*$/.test(lines[index])) {
      body.push(lines[index].replace(/^\s*\* ?/, ""))
    }
    examples.push({ path, line, readme: false, code: body.join("\n") })
  }
  return examples
}

const languages = new Set(["ts", "typescript", "js", "javascript", "mjs", "cjs"])

/** The ```ts and ```js blocks of one Markdown file (fences may be indented, in a list). */
const readmeBlocks = (path) => {
  const lines = readFileSync(join(root, path), "utf8").split("\n")
  const blocks = []
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)```(\w*)/.exec(lines[index])
    if (!open) continue
    const [, indent, language] = open
    const line = index + 2
    const body = []
    while (++index < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[index])) {
      body.push(lines[index].startsWith(indent) ? lines[index].slice(indent.length) : lines[index])
    }
    if (languages.has(language)) blocks.push({ path, line, readme: true, code: body.join("\n"), language })
  }
  return blocks
}

/** The extension a block is checked and run with. */
const extension = (block) => {
  if (!block.readme || ["ts", "typescript"].includes(block.language ?? "ts")) return "ts"
  if (block.language === "mjs" || block.language === "cjs") return block.language
  return /\brequire\(/.test(block.code) ? "cjs" : "mjs"
}

/** A README block that is a test file: run with vitest. */
const usesVitest = (example) => example.readme && /from\s+["'](@effect\/)?vitest["']/.test(example.code)

/** Whether the module's top level does something when it runs, beyond imports and declarations. */
const isProgram = (code, kind) => {
  const source = ts.createSourceFile("block", code, ts.ScriptTarget.Latest, true, kind)
  /** An `await` at the top level (not inside a function). */
  const awaits = (node) =>
    ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined) ||
    (ts.isVariableDeclarationList(node) && (node.flags & ts.NodeFlags.AwaitUsing) === ts.NodeFlags.AwaitUsing) ||
    (!ts.isFunctionLike(node) && !ts.isClassLike(node) && ts.forEachChild(node, awaits) === true)
  return source.statements.some((statement) => {
    if (ts.isVariableStatement(statement)) return awaits(statement)
    return !(ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement) ||
      ts.isExportDeclaration(statement) || ts.isExportAssignment(statement) || ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement) || ts.isModuleDeclaration(statement) ||
      ts.isEmptyStatement(statement))
  })
}

/** Runs a command without blocking this process's event loop (the fake server answers from it). */
const runAsync = (command, args, options) =>
  new Promise((resolve) => {
    execFile(command, args, { ...options, timeout: 120_000, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 }, (
      error,
      stdout,
      stderr
    ) =>
      resolve({
        ok: error === null,
        output: `${stdout}${stderr}${error?.killed ? "\n(killed: it did not exit by itself within 120 s)" : ""}`
      }))
  })

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
  for (const name of ["@types/node", "@effect/vitest", "vitest"]) link(name, join(root, "node_modules", name))

  const readmes = [
    "README.md",
    ...["packages", "examples"].flatMap((folder) =>
      readdirSync(join(root, folder)).map((name) => `${folder}/${name}/README.md`)
    )
  ].filter((path) => existsSync(join(root, path)))
  /** @type {Array<Example>} */
  const examples = [
    ...packages.flatMap((pkg) =>
      readdirSync(join(pkg.dir, "src")).filter((file) => file.endsWith(".ts")).sort().flatMap((file) =>
        jsdocExamples(relative(root, join(pkg.dir, "src", file)))
      )
    ),
    ...readmes.flatMap(readmeBlocks)
  ].map((example) => ({
    ...example,
    file: `${example.path.replace(/\/(src\/)?/g, ".").replace(/\.(ts|md)$/, "")}.L${example.line}.${
      usesVitest(example) ? "test." : ""
    }${extension(example)}`
  }))
  /** @type {Map<string, Example>} */
  const origins = new Map(examples.map((example) => [example.file, example]))
  for (const example of examples) {
    // A module of its own (the JSDoc examples have no import of their own at times).
    writeFileSync(
      join(dir, example.file),
      example.file.endsWith(".cjs") ? example.code : `${example.code}\nexport {}\n`
    )
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
        moduleDetection: "force",
        strict: true,
        allowJs: true,
        checkJs: true,
        outDir: "out",
        skipLibCheck: true,
        types: ["node"]
      },
      include: ["*.ts", "*.mjs", "*.cjs"]
    })
  )
  // Type-checks everything and emits the JavaScript the programs run as.
  const tsc = run(process.execPath, [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    dir,
    "--pretty",
    "false"
  ], {
    cwd: dir,
    timeoutMs: 300_000
  })
  const jsdoc = examples.filter((example) => !example.readme).length
  if (tsc.ok) {
    console.log(`check-examples: ${jsdoc} JSDoc examples and ${examples.length - jsdoc} README blocks type-check`)
  } else {
    failed = true
    // `<example file>(line,col): error ...` -> `packages/<pkg>/src/<Module>.ts:<line>: error ...`
    console.log(
      tsc.output.replace(/^(\S+?\.[cm]?[jt]s)\((\d+),\d+\)/gm, (match, file, line) => {
        const origin = origins.get(file)
        return origin ? `${origin.path}:${origin.line + Number(line) - 1}` : match
      })
    )
    console.log(
      "check-examples: an example does not type-check. A README block must be a module that type-checks as written " +
        "(its imports and every name it uses), and, if its top level does something, a program that runs."
    )
  }

  // The README programs, one at a time, each against a fake server of its own.
  const programs = examples.filter((example) =>
    example.readme && isProgram(example.code, example.file.endsWith(".ts") ? ts.ScriptKind.TS : ts.ScriptKind.JS)
  )
  const { FakeCairServer } = await import(pathToFileURL(join(root, "packages/auth-testing/dist/esm/index.js")).href)
  for (const program of failed ? [] : programs) {
    const server = await FakeCairServer.start()
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("CAIR_"))),
      CAIR_CLIENT_ID: server.credentials.clientId,
      CAIR_CLIENT_SECRET: server.credentials.clientSecret,
      CAIR_BASE_URL: server.url
    }
    const result = usesVitest(program)
      ? await runAsync(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run", program.file], {
        cwd: dir,
        env
      })
      : await runAsync(process.execPath, [join("out", program.file.replace(/\.ts$/, ".js"))], { cwd: dir, env })
    await server.stop()
    const leaked = result.output.includes(server.credentials.clientSecret) || /fake-[ar]t-/.test(result.output)
    const where = `${program.path}:${program.line}`
    if (result.ok && !leaked) {
      // What it printed last (for vitest, its count of tests).
      const lines = result.output.split("\n").map((line) => line.trim()).filter((line) => line !== "")
      const last = usesVitest(program) ? lines.find((line) => /^Tests\s/.test(line)) : lines.at(-1)
      console.log(`check-examples: ✓ ${where} ran${last === undefined ? "" : `: ${last}`}`)
    } else {
      failed = true
      console.log(
        `check-examples: ✗ ${where} ${result.ok ? "printed the secret or a token" : "failed"}:\n${result.output.trim()}`
      )
    }
  }
  if (!failed) console.log(`check-examples: ${programs.length} README programs ran`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
