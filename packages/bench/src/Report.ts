/**
 * Statistics and the one table the bench prints (Markdown, so that it can be pasted as it is).
 */

export const median = (values: ReadonlyArray<number>): number => percentile([...values].sort((a, b) => a - b), 0.5)

/** Linear interpolation between closest ranks; `sorted` ascending. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  if (sorted.length === 0) return NaN
  const rank = p * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.min(low + 1, sorted.length - 1)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low)
}

export const peers = ["google", "google-sub", "aws", "azure"] as const
export type Peer = typeof peers[number]

export interface Row {
  readonly bench: string
  readonly subject: string
  readonly result: string
  /** subject / floor of the bench's main figure, when the bench has a floor. */
  readonly floor?: number | undefined
  /** ours / peer of the bench's main figure. */
  readonly vs?: Partial<Record<Peer, number>> | undefined
  readonly target?: string | undefined
}

const ratio = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value)
    ? "–"
    : value >= 100
    ? `${value.toFixed(0)}×`
    : value >= 10
    ? `${value.toFixed(1)}×`
    : `${value.toFixed(2)}×`

export const render = (rows: ReadonlyArray<Row>): string => {
  const header = ["bench", "subject", "result", "× floor", ...peers.map((peer) => `× ${peer}`), "target"]
  const lines = rows.map((row) => [
    row.bench,
    row.subject,
    row.result,
    ratio(row.floor),
    ...peers.map((peer) => ratio(row.vs?.[peer])),
    row.target ?? ""
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)))
  const format = (cells: ReadonlyArray<string>) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`
  const rule = `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`
  return [format(header), rule, ...lines.map(format)].join("\n")
}

/** `ms` with a unit that keeps 3 significant digits readable. */
export const duration = (ms: number): string =>
  ms >= 1000
    ? `${(ms / 1000).toFixed(2)} s`
    : ms >= 1
    ? `${ms.toFixed(1)} ms`
    : ms >= 0.001
    ? `${(ms * 1000).toFixed(1)} µs`
    : `${(ms * 1e6).toFixed(0)} ns`

export const bytes = (n: number): string =>
  Math.abs(n) >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MiB`
    : Math.abs(n) >= 1024
    ? `${(n / 1024).toFixed(1)} KiB`
    : `${n.toFixed(0)} B`

export const met = (ok: boolean, what: string): string => `${ok ? "met" : "MISSED"}: ${what}`

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Runs a full collection, twice, so that finalizers of the first pass are collected too. */
export const heapAfterGc = async (): Promise<number> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("run node with --expose-gc")
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}
