// TypeDoc plugin: finds the public exports whose JSDoc has no `@example`.
//
// An export is a top-level declaration of an entry point (a public module), counted once per name: `CairAuth` the
// Tag, the interface and the namespace are one export, with an example if any of them has one.
//
// - `requireExamples: false` (the default): one info line with the count (`pnpm docs:examples` lists them).
// - `requireExamples: true`: a warning per export without an example; with `treatWarningsAsErrors` the build fails.
import { Converter, ParameterType, ReflectionKind } from "typedoc"

const exportKinds = ReflectionKind.Class | ReflectionKind.Function | ReflectionKind.Variable |
  ReflectionKind.TypeAlias | ReflectionKind.Interface | ReflectionKind.Enum | ReflectionKind.Namespace

/** @param {import("typedoc").Reflection} reflection */
const hasExample = (reflection) => {
  /** @type {Array<import("typedoc").Comment | undefined>} */
  const comments = [reflection.comment]
  if ("signatures" in reflection && Array.isArray(reflection.signatures)) {
    for (const signature of reflection.signatures) comments.push(signature.comment)
  }
  return comments.some((comment) => comment?.getTag("@example") !== undefined)
}

/** @param {import("typedoc").Application} app */
export const load = (app) => {
  app.options.addDeclaration({
    name: "requireExamples",
    help: "Warn about every public export without an @example (otherwise only count them).",
    type: ParameterType.Boolean,
    defaultValue: false
  })

  // In `entryPointStrategy: packages` each package is converted with options of its own (`packageOptions` and its
  // typedoc.json); this switch is read from the root options, where the command line sets it.
  const rootOptions = app.options

  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const project = context.project
    /** @type {Map<string, boolean>} */
    const exports = new Map()
    const modules = project.children?.some((child) => child.kindOf(ReflectionKind.Module))
      ? project.children.filter((child) => child.kindOf(ReflectionKind.Module))
      : [project]
    for (const module of modules) {
      for (const reflection of module.children ?? []) {
        if (!reflection.kindOf(exportKinds)) continue
        // A package with one entry point is that module: name it after its file (`FakeCairServer.start`).
        const file = reflection.sources?.[0]?.fileName.split("/").pop()?.replace(/\.ts$/, "")
        const prefix = module === project
          ? (file === undefined || file === "index" ? "" : `${file}.`)
          : `${module.name}.`
        const name = `${prefix}${reflection.name}`
        exports.set(name, (exports.get(name) ?? false) || hasExample(reflection))
      }
    }
    const missing = [...exports].filter(([, example]) => !example).map(([name]) => name).sort()
    const packageName = project.packageName ?? project.name
    if (rootOptions.getValue("requireExamples")) {
      for (const name of missing) app.logger.warn(`${packageName}: ${name} has no @example`)
    } else if (missing.length > 0) {
      app.logger.info(
        `${packageName}: ${missing.length} of ${exports.size} public exports have no @example (pnpm docs:examples lists them)`
      )
    }
  })
}
