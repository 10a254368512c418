/**
 * `pnpm bench`: runs the six benchmarks against a fake Cair server on 127.0.0.1 and prints one Markdown table.
 * Writes nothing else; stops the server, every client, child process and redis-server, and exits by itself.
 * `pnpm bench 1 3` runs the first and third only.
 */
import * as CachedRead from "./benchmarks/CachedRead.js"
import * as ColdStart from "./benchmarks/ColdStart.js"
import * as Fleet from "./benchmarks/Fleet.js"
import * as Memory from "./benchmarks/Memory.js"
import * as Refresh from "./benchmarks/Refresh.js"
import * as Throughput from "./benchmarks/Throughput.js"
import * as FakeServer from "./FakeServer.js"
import { render, type Row } from "./Report.js"

/**
 * Every loop is bounded; this bounds each benchmark should something hang all the same. Per benchmark, not per run:
 * the fleet alone forks 192 processes, and took 7 minutes on the 2 cores under a load average of 30.
 */
let running = "the start"
const deadline = setTimeout(() => {
  process.stderr.write(`bench: ${running} not finished after 10 minutes, giving up\n`)
  process.exit(1)
}, 10 * 60 * 1000)
deadline.unref()

const benchmarks = [CachedRead, ColdStart, Refresh, Throughput, Memory, Fleet]
const chosen = process.argv.slice(2).map(Number)
if (chosen.some((n) => !Number.isInteger(n) || n < 1 || n > benchmarks.length)) {
  process.stderr.write(`bench: the benchmarks are numbered 1 to ${benchmarks.length}, got ${process.argv.slice(2)}\n`)
  process.exit(2)
}

const server = await FakeServer.start()
const rows: Array<Row> = []
try {
  for (const n of chosen.length === 0 ? benchmarks.map((_, i) => i + 1) : chosen) {
    running = `benchmark ${n}`
    deadline.refresh()
    for (const row of await benchmarks[n - 1]!.run(server)) rows.push(row)
    await server.resetLog()
  }
} finally {
  await server.stop()
}
process.stdout.write(render(rows) + "\n")
