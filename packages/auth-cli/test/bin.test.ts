/**
 * The built `cair-auth` as a user runs it: a child process against the fake Cair server on 127.0.0.1, with the
 * configuration in its environment. Every run must exit by itself (nothing kills it; a hang fails by time-out) and
 * nothing it prints may show the client secret, nor a token where the command is not asked for one.
 */
import { FakeCairServer, RedisServer } from "@cair/auth-testing"
import { spawn, spawnSync } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { leaks } from "../../auth/test/utils/secrets.js"
import { binPath, type CliResult, killLeftovers, runCli } from "./utils/runCli.js"

const credentials = { clientId: "clinic-cli", clientSecret: "S3CRET-cli-4f0c9a" }
const timeout = 60_000
const accessTokenPattern = /^fake-at-\d+-[0-9a-f]{12}$/

let server: FakeCairServer.Handle
let dir: string

beforeAll(async () => {
  server = await FakeCairServer.start({ credentials })
  dir = mkdtempSync(join(tmpdir(), "cair-auth-cli-"))
}, timeout)

afterAll(async () => {
  killLeftovers()
  rmSync(dir, { recursive: true, force: true })
  await server?.stop()
}, timeout)

afterEach(() => server.clearFaults())

const env = (overrides: Record<string, string | undefined> = {}): Record<string, string> => {
  const all: Record<string, string | undefined> = {
    CAIR_CLIENT_ID: credentials.clientId,
    CAIR_CLIENT_SECRET: credentials.clientSecret,
    CAIR_BASE_URL: server.url,
    ...overrides
  }
  return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

/** The streams of a run that show the client secret, or a token where `allowed` does not expect one. */
const secretsIn = (result: CliResult, allowed: { readonly stdout?: RegExp } = {}): ReadonlyArray<string> =>
  leaks(
    [
      ["stdout", allowed.stdout === undefined ? result.stdout : result.stdout.replace(allowed.stdout, "<expected>")],
      ["stderr", result.stderr]
    ],
    [credentials.clientSecret]
  )

/**
 * The core's warning for each failed attempt of a token request (with its annotation lines): on stderr with
 * `--log-level warning` or lower; the CLI's default level (error) leaves stderr to its own lines.
 */
const attemptWarning =
  /^\[[\d:.]+\] WARN \(#\d+\): Cair token request to \S+: attempt \d+ of \d+ failed .*\n(?: {2}.*\n)*/gm
const attemptWarnings = (stderr: string): number => stderr.match(attemptWarning)?.length ?? 0

/** A port on 127.0.0.1 that nothing listens on. */
const deadPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const eligibility = (token: string) =>
  fetch(`${server.url}/api/eligibility/v1`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ memberId: "m-1" })
  })

describe("cair-auth token", () => {
  it("prints exactly the access token and a newline, and the token works", async () => {
    const result = await runCli(["token"], env())
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe("")
    expect(result.stdout.endsWith("\n")).toBe(true)
    const token = result.stdout.slice(0, -1)
    expect(token).toMatch(accessTokenPattern)
    expect((await eligibility(token)).status).toBe(200)
    expect(secretsIn(result, { stdout: /fake-at-\d+-[0-9a-f]{12}/ })).toEqual([])
  }, timeout)

  it("--header prints the Authorization header line", async () => {
    const result = await runCli(["token", "--header"], env())
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe("")
    expect(result.stdout).toMatch(/^Authorization: Bearer fake-at-\d+-[0-9a-f]{12}\n$/)
    expect(secretsIn(result, { stdout: /fake-at-\d+-[0-9a-f]{12}/ })).toEqual([])
  }, timeout)

  it("--json prints the token and the token set's public fields, never the refresh token", async () => {
    const result = await runCli(["token", "--json"], env())
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe("")
    const output = JSON.parse(result.stdout)
    expect(Object.keys(output).sort()).toEqual(["accessToken", "expiresAt", "refreshTokenExpiresAt"])
    expect(output.accessToken).toMatch(accessTokenPattern)
    expect(new Date(output.expiresAt).toISOString()).toBe(output.expiresAt)
    expect(new Date(output.refreshTokenExpiresAt).toISOString()).toBe(output.refreshTokenExpiresAt)
    expect(Date.parse(output.refreshTokenExpiresAt)).toBeGreaterThan(Date.parse(output.expiresAt))
    // No refresh token anywhere: the scan allows the access token only.
    expect(secretsIn(result, { stdout: /fake-at-\d+-[0-9a-f]{12}/ })).toEqual([])
  }, timeout)

  it("--json --include-refresh-token adds the refresh token, and it refreshes", async () => {
    const result = await runCli(["token", "--json", "--include-refresh-token"], env())
    expect(result.exitCode).toBe(0)
    const output = JSON.parse(result.stdout)
    expect(Object.keys(output).sort()).toEqual(["accessToken", "expiresAt", "refreshToken", "refreshTokenExpiresAt"])
    expect(output.refreshToken).toMatch(/^fake-rt-\d+-[0-9a-f]{12}$/)
    const refreshed = await fetch(`${server.url}/api/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: output.refreshToken })
    })
    expect(refreshed.status).toBe(200)
    expect(secretsIn(result, { stdout: /fake-(?:at|rt)-\d+-[0-9a-f]{12}/g })).toEqual([])
  }, timeout)

  it("reads the secret from --client-secret-file, over CAIR_CLIENT_SECRET", async () => {
    const file = join(dir, "secret")
    writeFileSync(file, `${credentials.clientSecret}\n`, { mode: 0o600 })
    const result = await runCli(["token", "--client-secret-file", file], env({ CAIR_CLIENT_SECRET: "S3CRET-wrong" }))
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
  }, timeout)

  it("reads the secret from stdin with --client-secret-file -", async () => {
    const result = await runCli(["token", "--client-secret-file", "-"], env({ CAIR_CLIENT_SECRET: undefined }), {
      stdin: `${credentials.clientSecret}\n`
    })
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe("")
    expect(result.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
  }, timeout)

  it("warns when other users can read the secret file", async () => {
    const file = join(dir, "shared-secret")
    writeFileSync(file, credentials.clientSecret)
    chmodSync(file, 0o644)
    const result = await runCli(["token", "--client-secret-file", file], env({ CAIR_CLIENT_SECRET: undefined }))
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe(
      `cair-auth: warning: other users can read --client-secret-file ${file} (chmod 600 ${file})\n`
    )
    expect(result.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
  }, timeout)

  it("flags override the environment", async () => {
    const result = await runCli(
      ["token", "--client-id", credentials.clientId, "--base-url", server.url],
      env({ CAIR_CLIENT_ID: "someone-else", CAIR_BASE_URL: "https://example.invalid" })
    )
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
  }, timeout)

  it("retries a failing server like the library does, and prints only the token", async () => {
    server.inject(FakeCairServer.Fault.Status({ status: 503 }), { path: "/api/token", times: 2 })
    const result = await runCli(["token"], env())
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe("")
    expect(result.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
    // The retries are logged at warning: shown when asked for.
    server.inject(FakeCairServer.Fault.Status({ status: 503 }), { path: "/api/token", times: 2 })
    const verbose = await runCli(["token", "--log-level", "warning"], env())
    expect(verbose.exitCode).toBe(0)
    expect(attemptWarnings(verbose.stderr)).toBe(2)
    expect(verbose.stderr.replace(attemptWarning, "")).toBe("")
    expect(verbose.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
    expect(secretsIn(verbose, { stdout: /fake-at-\d+-[0-9a-f]{12}/ })).toEqual([])
  }, timeout)

  it("gives up on a server that never answers after --timeout, with exit code 5", async () => {
    server.inject(FakeCairServer.Fault.Hang(), { path: "/api/token", times: 10 })
    const result = await runCli(["token", "--timeout", "0.5"], env())
    expect(result.exitCode).toBe(5)
    expect(result.stdout).toBe("")
    expect(result.stderr).toMatch(
      /^cair-auth: Token request to .*\/api\/token failed: Timeout.*--timeout SECONDS waits longer\)\n$/
    )
    expect(secretsIn(result)).toEqual([])
  }, timeout)

  it("refuses flags that do not go together, with exit code 2", async () => {
    for (const args of [["token", "--header", "--json"], ["token", "--include-refresh-token"]]) {
      const result = await runCli(args, env())
      expect(result.exitCode).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderr.trim().split("\n")).toHaveLength(1)
    }
  }, timeout)

  it("has no flag for the secret itself: a usage error that says why", async () => {
    for (const args of [["--client-secret", "S3CRET-typed"], ["--client-secret=S3CRET-typed"]]) {
      const result = await runCli(["token", ...args], env())
      expect(result.exitCode).toBe(2)
      expect(result.stdout).toBe("")
      const lines = result.stderr.split("\n")
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatch(/^cair-auth: there is no --client-secret flag: a flag's value lands in the shell's/)
      expect(leaks([["stderr", result.stderr]], ["S3CRET-typed"])).toEqual([])
    }
  }, timeout)
})

describe("a refused command line", () => {
  const pasted = "S3CRET-pasted-7d1e"
  const refused: ReadonlyArray<ReadonlyArray<string>> = [
    ["token", pasted],
    ["check", pasted],
    [pasted],
    ["token", "--", pasted],
    ["token", `-${pasted}`],
    ["token", `--foo=${pasted}`],
    [`--${pasted}`],
    ["token", `--header=${pasted}`],
    ["token", "--timeout", pasted],
    ["token", `--timeout=${pasted}`],
    ["check", "--timeout", "-31337"],
    ["--log-level", pasted, "token"],
    ["--completions", pasted],
    ["token", "--client-secret", pasted],
    ["token", `--client-secret=${pasted}`]
  ]

  it("never prints an argument back: one line that says what is wrong, with exit code 2", async () => {
    for (const args of refused) {
      const result = await runCli(args, env())
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 })
      expect(result.stdout).toBe("")
      expect(result.stderr).toMatch(/^cair-auth: .*\n$/)
      expect(result.stderr.split("\n")).toHaveLength(2)
      expect(leaks([["stdout", result.stdout], ["stderr", result.stderr]], [pasted, "31337"])).toEqual([])
    }
  }, 180_000)

  it("says which argument, and where to look", async () => {
    const unexpected = await runCli(["token", "--json", pasted], env())
    expect(unexpected.stderr).toMatch(
      /^cair-auth: unexpected argument 3 \(value not shown\): not a flag of cair-auth token, .*see cair-auth token --help/
    )
    const value = await runCli(["check", "--timeout", pasted], env())
    expect(value.stderr).toMatch(/^cair-auth: a flag's value is invalid \(value not shown\).*cair-auth check --help/)
    const command = await runCli([pasted], env())
    expect(command.stderr).toMatch(/^cair-auth: unknown command \(value not shown\): give token or check/)
  }, timeout)
})

describe("cair-auth check", () => {
  it("exits 0 for good credentials, with a report that shows no secret and no token", async () => {
    const result = await runCli(["check"], env())
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe("")
    const report = result.stdout
    expect(report).toContain(`base URL        ok    ${server.url}`)
    expect(report).toContain(`client id       ok    ${credentials.clientId}`)
    expect(report).toContain("client secret   ok    from CAIR_CLIENT_SECRET")
    expect(report).toMatch(/token endpoint {2}ok {4}HTTP 200 in \d+ ms/)
    expect(report).toContain("credentials     ok    accepted")
    expect(report).toMatch(/access token {4}ok {4}valid for 10 min, until \d{4}-\d\d-\d\dT/)
    expect(report).toMatch(/clock skew {6}ok {4}[+-]\d+\.\d s/)
    expect(report).toContain("shared store    --    not configured (CAIR_REDIS_URL is not set)")
    expect(secretsIn(result)).toEqual([])
  }, timeout)

  it("exits 4 for wrong credentials, with one line on stderr", async () => {
    const result = await runCli(["check"], env({ CAIR_CLIENT_SECRET: "S3CRET-wrong-one" }))
    expect(result.exitCode).toBe(4)
    expect(result.stdout).toContain("credentials     FAIL  rejected (HTTP 401)")
    expect(result.stderr).toBe(
      `cair-auth: The Cair token endpoint rejected the credentials of client "${credentials.clientId}" (HTTP 401). ` +
        "Check CAIR_CLIENT_ID and CAIR_CLIENT_SECRET against the admin panel.\n"
    )
    expect(leaks([["stdout", result.stdout], ["stderr", result.stderr]], ["S3CRET-wrong-one"])).toEqual([])
    expect(secretsIn(result)).toEqual([])
  }, timeout)

  it("exits 5 for a dead port", async () => {
    const port = await deadPort()
    const result = await runCli(["check"], env({ CAIR_BASE_URL: `http://127.0.0.1:${port}` }))
    expect(result.exitCode).toBe(5)
    expect(result.stdout).toMatch(/token endpoint {2}FAIL {2}unreachable after \d+ (?:ms|s): .*ECONNREFUSED/)
    expect(result.stdout).toContain("credentials     --    not checked")
    expect(result.stderr).toMatch(
      /^cair-auth: Token request to http:\/\/127\.0\.0\.1:\d+\/api\/token failed: Transport/
    )
    expect(result.stderr.trim().split("\n")).toHaveLength(1)
    expect(secretsIn(result)).toEqual([])
  }, timeout)

  it("exits 5 for a failing server, without retrying: it reports what one request saw", async () => {
    server.resetLog()
    server.inject(FakeCairServer.Fault.Status({ status: 503 }), { path: "/api/token", times: 5 })
    const result = await runCli(["check"], env())
    expect(result.exitCode).toBe(5)
    expect(result.stdout).toMatch(/token endpoint {2}FAIL {2}HTTP 503 in /)
    expect(result.stderr).toMatch(/^cair-auth: .*\(HTTP 503\).*try again later\)\n$/)
    expect(server.count("/api/token")).toBe(1)
  }, timeout)

  it("exits 3 for a missing secret, with one line naming the variable and a hint", async () => {
    const result = await runCli(["check"], env({ CAIR_CLIENT_SECRET: undefined }))
    expect(result.exitCode).toBe(3)
    expect(result.stdout).toBe("")
    expect(result.stderr).toBe(
      "cair-auth: CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel; export " +
        "CAIR_CLIENT_SECRET, pass --client-secret-file FILE, or run cair-auth in a terminal to type it)\n"
    )
  }, timeout)

  it("exits 3 for an invalid base URL or an unreadable secret file, naming the flag", async () => {
    const insecure = await runCli(["check", "--base-url", "http://example.com"], env())
    expect(insecure.exitCode).toBe(3)
    expect(insecure.stderr).toMatch(/^cair-auth: --base-url is invalid: must use https:/)
    const missing = await runCli(["check", "--client-secret-file", join(dir, "nothing-here")], env())
    expect(missing.exitCode).toBe(3)
    expect(missing.stderr).toBe(
      `cair-auth: --client-secret-file ${join(dir, "nothing-here")} cannot be read: no such file\n`
    )
  }, timeout)

  it("reports the server's clock skew from its Date header", async () => {
    const ahead = await FakeCairServer.start({ credentials, clockOffsetMs: 120_000 })
    try {
      const result = await runCli(["check"], env({ CAIR_BASE_URL: ahead.url }))
      expect(result.exitCode).toBe(0)
      const skew = /clock skew {6}warn {2}\+(\d+\.\d) s, the server is ahead/.exec(result.stdout)
      expect(skew).not.toBeNull()
      // The Date header has whole seconds, and the round trip may be slow on a busy machine.
      expect(Math.abs(Number(skew![1]) - 120)).toBeLessThan(10)
    } finally {
      await ahead.stop()
    }
  }, timeout)
})

describe("the shared store (CAIR_REDIS_URL)", () => {
  let redis: RedisServer.RedisServer
  beforeAll(async () => {
    redis = await RedisServer.start({ startTimeoutMs: 60_000 })
  }, 90_000)
  afterAll(() => redis?.stop(), timeout)

  it("token shares the fleet's token: the second cair-auth gets the first one's token, no new request", async () => {
    server.resetLog()
    const clientId = "clinic-cli-fleet"
    const fleet = await FakeCairServer.start({ credentials: { ...credentials, clientId } })
    try {
      const vars = env({ CAIR_REDIS_URL: redis.url, CAIR_BASE_URL: fleet.url, CAIR_CLIENT_ID: clientId })
      const first = await runCli(["token"], vars)
      const second = await runCli(["token"], vars)
      expect([first.exitCode, second.exitCode]).toEqual([0, 0])
      expect(first.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
      expect(second.stdout).toBe(first.stdout)
      expect(fleet.count("/api/token")).toBe(1)
      for (const result of [first, second]) {
        expect(result.stderr).toBe("")
        expect(secretsIn(result, { stdout: /fake-at-\d+-[0-9a-f]{12}/ })).toEqual([])
      }
      const check = await runCli(["check"], vars)
      expect(check.exitCode).toBe(0)
      expect(check.stdout).toMatch(
        /shared store {4}ok {4}redis:\/\/127\.0\.0\.1:\d+ answered in \d+ m?s; the fleet's access token is valid for \d+ min/
      )
      expect(secretsIn(check)).toEqual([])
    } finally {
      await fleet.stop()
    }
  }, timeout)

  it("check says when the store holds no token for this client yet", async () => {
    const result = await runCli(["check"], env({ CAIR_REDIS_URL: redis.url }))
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/shared store {4}ok {4}redis:.* answered in .*; no token shared for this client yet/)
  }, timeout)

  it("check exits 6 when Redis does not answer, and token still works on its own; no password is shown", async () => {
    const url = `redis://cair:S3CRET-redis-password@127.0.0.1:${await deadPort()}`
    const check = await runCli(["check"], env({ CAIR_REDIS_URL: url }))
    expect(check.exitCode).toBe(6)
    expect(check.stdout).toContain("credentials     ok    accepted")
    expect(check.stdout).toMatch(/shared store {4}FAIL {2}redis:\/\/127\.0\.0\.1:\d+: .*Unavailable/)
    expect(check.stderr).toMatch(/^cair-auth: the shared store .*is Redis up\?\)$/m)
    const token = await runCli(["token"], env({ CAIR_REDIS_URL: url }))
    expect(token.exitCode).toBe(0)
    expect(token.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
    expect(secretsIn(check)).toEqual([])
    expect(secretsIn(token, { stdout: /fake-at-\d+-[0-9a-f]{12}/ })).toEqual([])
  }, timeout)

  it("an invalid CAIR_REDIS_URL is a configuration error that does not echo it", async () => {
    for (const command of ["token", "check"]) {
      const result = await runCli([command], env({ CAIR_REDIS_URL: "http://cair:S3CRET-redis-password@cache" }))
      expect(result.exitCode).toBe(3)
      expect(result.stdout).toBe("")
      expect(result.stderr).toMatch(/^cair-auth: CAIR_REDIS_URL is invalid: expected redis:\/\//)
      expect(secretsIn(result)).toEqual([])
    }
  }, timeout)

  it(
    "a CAIR_REDIS_URL that node-redis cannot parse: the store's typed error, not a crash, and not echoed",
    async () => {
      // A URL, but its password is not percent-encoded: node-redis cannot decode it.
      for (const command of ["token", "check"]) {
        const result = await runCli(
          [command],
          env({ CAIR_REDIS_URL: "redis://cair:S3CRET-redis-password%ZZ@cache:6379" })
        )
        expect(result.exitCode, result.stderr).toBe(3)
        expect(result.stderr).toMatch(/^cair-auth: CAIR_REDIS_URL is invalid: the Redis URL cannot be parsed/m)
        expect(result.stdout + result.stderr).not.toContain("S3CRET")
        expect(secretsIn(result)).toEqual([])
      }
    },
    timeout
  )
})

describe("errors and logs", () => {
  it("shows no stack trace unless --log-level debug", async () => {
    const quiet = await runCli(["token"], env({ CAIR_CLIENT_SECRET: undefined }))
    expect(quiet.exitCode).toBe(3)
    expect(quiet.stderr).not.toMatch(/^\s+at /m)
    const debug = await runCli(["--log-level", "debug", "token"], env({ CAIR_CLIENT_SECRET: undefined }))
    expect(debug.exitCode).toBe(3)
    expect(debug.stdout).toBe("")
    expect(debug.stderr).toMatch(/DEBUG/)
    expect(debug.stderr).toMatch(/^\s+at /m)
    expect(debug.stderr).toContain("cair-auth: CAIR_CLIENT_SECRET is not set")
  }, timeout)

  it("keeps stdout for the token at every log level", async () => {
    const result = await runCli(["--log-level", "all", "token"], env())
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
    expect(secretsIn(result, { stdout: /fake-at-\d+-[0-9a-f]{12}/ })).toEqual([])
  }, timeout)
})

describe("help, version and completions", () => {
  it("--version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    const result = await runCli(["--version"])
    expect(result.exitCode).toBe(0)
    expect(result.stdout.trim()).toBe(version)
  }, timeout)

  it("--help lists the commands, the variables and the exit codes", async () => {
    const result = await runCli(["--help"])
    expect(result.exitCode).toBe(0)
    for (const text of ["token", "check", "CAIR_CLIENT_SECRET", "EXIT CODES", "credentials rejected"]) {
      expect(result.stdout).toContain(text)
    }
  }, timeout)

  it("--completions prints a completion script for each shell", async () => {
    for (const shell of ["bash", "zsh", "fish"]) {
      const result = await runCli(["--completions", shell])
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain("cair-auth")
      expect(result.stdout).toContain("token")
    }
  }, timeout)

  it("without a command, says so with exit code 2", async () => {
    const result = await runCli([])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toBe("cair-auth: give a command: token or check (see cair-auth --help)\n")
  }, timeout)
})

const hasScript = spawnSync("script", ["--version"]).status === 0

describe("the secret prompt", () => {
  it.skipIf(!hasScript)(
    "asks for the secret on the terminal (stderr) when it is missing, and keeps stdout for the token",
    async () => {
      const out = join(dir, "prompted-token")
      // `script` gives the command a terminal; its stdout goes to a file, as in `$(cair-auth token)`.
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} token > ${JSON.stringify(out)}`
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        env: { PATH: process.env.PATH ?? "", SHELL: "/bin/sh", ...env({ CAIR_CLIENT_SECRET: undefined }) },
        stdio: ["pipe", "pipe", "pipe"]
      })
      let terminal = ""
      let typed = false
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        terminal += chunk
        // Types the secret once the prompt is on the screen: typed earlier, the terminal would echo it.
        if (!typed && terminal.includes(`Client secret of ${credentials.clientId}`)) {
          typed = true
          child.stdin.write(`${credentials.clientSecret}\r`)
        }
      })
      const exitCode = await new Promise<number | null>((resolve) => child.on("close", resolve))
      expect(typed).toBe(true)
      expect(exitCode).toBe(0)
      expect(readFileSync(out, "utf8")).toMatch(/^fake-at-\d+-[0-9a-f]{12}\n$/)
      expect(leaks([["terminal", terminal]], [credentials.clientSecret])).toEqual([])
    },
    timeout
  )
})
