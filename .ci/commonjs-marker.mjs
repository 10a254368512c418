// Marks a CommonJS build folder: Node reads the nearest package.json's "type" to pick the module system.
import { writeFileSync } from "node:fs"
import { join } from "node:path"

writeFileSync(join(process.argv[2], "package.json"), JSON.stringify({ type: "commonjs" }) + "\n")
