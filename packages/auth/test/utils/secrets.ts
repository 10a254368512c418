/**
 * The distinctive secret and token values the test suites run with, and the scan that looks for them in
 * whatever a test produced: log lines, errors, span attributes, events, inspected objects, console output.
 *
 * Every suite uses values of these shapes, so a leak anywhere is caught by pattern even where the exact
 * value is not known to the scanning code (a token issued by the fake server, say).
 */
import { inspect } from "node:util"

/** The client secret of the reliability suites (FaultMatrix, Outage, SecretScan, SafeByDefault, soak). */
export const clientSecret = "S3CRET-reliability-5b7e21"

export const credentials = { clientId: "clinic-reliability", clientSecret }

/** Every shape of secret used across the suites. */
export const secretPatterns: ReadonlyArray<RegExp> = [
  // client secrets: test/fixtures.ts, the reliability suites
  /S3CRET-[\w-]+/,
  // the scripted tokens of test/fixtures.ts
  /AT-secret-access-\d+/,
  /RT-secret-refresh-\d+/,
  // tokens issued by the fake server, and the token set of its Truncated fault
  /fake-(?:at|rt)-(?:\d+-[0-9a-f]{12}|truncated)/,
  // the fake server's default secret, and the one the adapter tests use for wrong credentials
  /demo-secret/,
  /very-secret-value/,
  // the header-unsafe access tokens of test/utils/headerUnsafeTokens.ts
  /UNSAFE-token-[\w-]+/
]

/** The first secret found in `text`, masked (its first 8 characters), or `undefined`. */
export const findSecret = (text: string, extra: ReadonlyArray<string> = []): string | undefined => {
  for (const pattern of secretPatterns) {
    const match = pattern.exec(text)
    if (match !== null) return `${match[0].slice(0, 8)}…`
  }
  for (const value of extra) {
    if (value !== "" && text.includes(value)) return `${value.slice(0, 8)}…`
  }
  return undefined
}

/**
 * Every rendering of a value a program might print: `String`, `util.inspect` (deep) and `JSON.stringify`, and for
 * an error the message and stack of each error of its `cause` chain (a `TypeError` of fetch, say, whose message
 * prints a header value), which `JSON.stringify` leaves out and a logger may print on its own.
 */
export const renderings = (value: unknown): ReadonlyArray<string> => {
  const out = [inspect(value, { depth: 20, showHidden: false }), safely(() => String(value))]
  out.push(safely(() => JSON.stringify(value) ?? ""))
  let error: unknown = value
  for (let depth = 0; depth < 10 && error instanceof Error; depth++) {
    out.push(error.message, error.stack ?? "")
    error = error.cause
  }
  return out
}

const safely = (f: () => string): string => {
  try {
    return f()
  } catch (error) {
    return `<${String(error)}>`
  }
}

/**
 * The outputs among `outputs` that show a secret, as `label: masked` lines; empty when none does. A test
 * asserts `toEqual([])`, so a failure names where the leak is without printing the secret in full.
 */
export const leaks = (
  outputs: ReadonlyArray<readonly [label: string, text: string]>,
  extra: ReadonlyArray<string> = []
): ReadonlyArray<string> =>
  outputs.flatMap(([label, text]) => {
    const found = findSecret(text, extra)
    return found === undefined ? [] : [`${label}: ${found}`]
  })
