/**
 * Vitest setup file of the `@cair/auth`, `@cair/auth-adapters` and `@cair/auth-testing` projects: everything a
 * test file prints (console methods, `process.stdout` and `process.stderr`) is kept and, once the file's tests
 * have run, scanned for the distinctive secret and token values every suite uses (`./secrets.ts`). A test that
 * prints a secret fails its file, naming the output without repeating the secret.
 */
import { format } from "node:util"
import { afterAll } from "vitest"
import { findSecret } from "./secrets.js"

const printed: Array<string> = []

for (const method of ["log", "info", "warn", "error", "debug", "trace", "dir"] as const) {
  const original = console[method]
  console[method] = function(this: Console, ...args: Array<unknown>) {
    printed.push(format(...args))
    return original.apply(this, args)
  }
}

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write
  stream.write = function(this: NodeJS.WriteStream, chunk: unknown, ...rest: Array<unknown>) {
    printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"))
    return (write as (...args: Array<unknown>) => boolean).apply(this, [chunk, ...rest])
  } as typeof stream.write
}

/** What the file printed so far: lets a test check that the capture works. */
export const printedSoFar = (): ReadonlyArray<string> => printed

afterAll(() => {
  const found = printed.flatMap((text, i) => {
    const secret = findSecret(text)
    return secret === undefined ? [] : [`output ${i} (${text.length} chars): ${secret}`]
  })
  if (found.length > 0) {
    throw new Error(`This test file printed a secret or token: ${found.join("; ")}`)
  }
})
