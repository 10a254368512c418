// Marks a CommonJS build folder: Node reads the nearest package.json's "type" to pick the module system.
// Usage: node .ci/commonjs-marker.mjs [dir...]   (default: the dist/cjs of every package that has one)
// Writes only a missing or different marker, so that a build with nothing to do changes no file.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { root } from "./packages.mjs"

const marker = JSON.stringify({ type: "commonjs" }) + "\n"
const dirs = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(join(root, "packages")).map((name) => join(root, "packages", name, "dist", "cjs")).filter(existsSync)

for (const dir of dirs) {
  const file = join(dir, "package.json")
  if (!existsSync(file) || readFileSync(file, "utf8") !== marker) writeFileSync(file, marker)
}
