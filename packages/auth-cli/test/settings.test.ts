import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type ConnectionFlags, resolve } from "../src/internal/settings.js"

const secret = "S3CRET-settings-19ab"
const env = { CAIR_CLIENT_ID: "clinic-env", CAIR_CLIENT_SECRET: secret, CAIR_BASE_URL: "https://cair.example" }
const noFlags: ConnectionFlags = {
  clientId: Option.none(),
  baseUrl: Option.none(),
  clientSecretFile: Option.none(),
  timeoutSeconds: 10
}

const dir = mkdtempSync(join(tmpdir(), "cair-auth-cli-settings-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let stdin: Stream.Stream<Uint8Array> = Stream.empty

const run = (flags: Partial<ConnectionFlags>, vars: Record<string, string | undefined>) =>
  resolve({ ...noFlags, ...flags }, { env: vars, interactive: false, stdin }).pipe(Effect.provide(NodeContext.layer))

const lines = (flags: Partial<ConnectionFlags>, vars: Record<string, string | undefined>) =>
  run(flags, vars).pipe(Effect.flip, Effect.map((error) => error.lines))

describe("settings", () => {
  it.effect("reads CairAuth.config from the environment", () =>
    Effect.gen(function*() {
      const settings = yield* run({}, env)
      expect(settings.clientId).toBe("clinic-env")
      expect(settings.baseUrl).toBe("https://cair.example")
      expect(Redacted.value(settings.options.clientSecret)).toBe(secret)
      expect(settings.options.requestTimeoutMs).toBe(10_000)
      expect(settings.secretSource).toBe("CAIR_CLIENT_SECRET")
    }))

  it.effect("the base URL defaults as in CairAuth.config", () =>
    Effect.gen(function*() {
      const settings = yield* run({}, { ...env, CAIR_BASE_URL: undefined })
      expect(settings.baseUrl).toBe("https://forecaster.cairhealth.com")
    }))

  it.effect("a flag wins over its variable", () =>
    Effect.gen(function*() {
      const settings = yield* run(
        { clientId: Option.some("clinic-flag"), baseUrl: Option.some("http://127.0.0.1:8080/"), timeoutSeconds: 2.5 },
        env
      )
      expect(settings.clientId).toBe("clinic-flag")
      expect(settings.baseUrl).toBe("http://127.0.0.1:8080")
      expect(settings.options.requestTimeoutMs).toBe(2_500)
    }))

  it.effect("an empty or invalid flag is an error naming the flag: the variable does not stand in for it", () =>
    Effect.gen(function*() {
      expect(yield* lines({ clientId: Option.some("") }, env)).toEqual([
        "--client-id is empty (the client id from the Cair admin panel)"
      ])
      const [baseUrl] = yield* lines({ baseUrl: Option.some("http://cair.example") }, env)
      expect(baseUrl).toMatch(/^--base-url is invalid: must use https:/)
    }))

  it.effect("a missing or invalid variable is an error naming it, with how to set it", () =>
    Effect.gen(function*() {
      expect(yield* lines({}, {})).toEqual([
        "CAIR_CLIENT_ID is not set (the client id from the Cair admin panel; export CAIR_CLIENT_ID, or pass " +
        "--client-id ID)",
        "CAIR_CLIENT_SECRET is not set (the client secret from the Cair admin panel; export CAIR_CLIENT_SECRET, " +
        "pass --client-secret-file FILE, or run cair-auth in a terminal to type it)"
      ])
      const [empty] = yield* lines({}, { ...env, CAIR_CLIENT_SECRET: "" })
      expect(empty).toMatch(/^CAIR_CLIENT_SECRET is empty \(/)
      const [invalid] = yield* lines({}, { ...env, CAIR_BASE_URL: "not a url" })
      expect(invalid).toMatch(/^CAIR_BASE_URL is invalid: not an absolute URL .*pass --base-url URL\)$/)
    }))

  it.effect("reads the secret from --client-secret-file, trimmed, over CAIR_CLIENT_SECRET", () =>
    Effect.gen(function*() {
      const file = join(dir, "secret")
      writeFileSync(file, `  ${secret}-file\r\n`, { mode: 0o600 })
      const settings = yield* run({ clientSecretFile: Option.some(file) }, env)
      expect(Redacted.value(settings.options.clientSecret)).toBe(`${secret}-file`)
      expect(settings.secretSource).toBe("--client-secret-file")

      writeFileSync(join(dir, "empty"), "\n", { mode: 0o600 })
      expect(yield* lines({ clientSecretFile: Option.some(join(dir, "empty")) }, env)).toEqual([
        `--client-secret-file ${join(dir, "empty")} is empty (it should hold the client secret)`
      ])
      expect(yield* lines({ clientSecretFile: Option.some(dir) }, env)).toEqual([
        `--client-secret-file ${dir} cannot be read: not a file`
      ])
    }))

  it.effect("--client-secret-file - reads stdin, and refuses what is too long to be a secret", () =>
    Effect.gen(function*() {
      stdin = Stream.make(new TextEncoder().encode(`${secret}-`), new TextEncoder().encode("stdin\n"))
      const settings = yield* run({ clientSecretFile: Option.some("-") }, env)
      expect(Redacted.value(settings.options.clientSecret)).toBe(`${secret}-stdin`)
      stdin = Stream.make(new Uint8Array(64 * 1024), new Uint8Array(1))
      expect(yield* lines({ clientSecretFile: Option.some("-") }, env)).toEqual([
        "--client-secret-file - is longer than 65536 bytes: it is not a client secret"
      ])
      stdin = Stream.empty
      expect(yield* lines({ clientSecretFile: Option.some("-") }, env)).toEqual([
        "--client-secret-file - is empty (it should hold the client secret)"
      ])
    }))

  it.effect("no error line holds the secret", () =>
    Effect.gen(function*() {
      const all = [
        ...(yield* lines({ clientId: Option.some("") }, env)),
        ...(yield* lines({}, { ...env, CAIR_BASE_URL: secret })),
        ...(yield* lines({}, { CAIR_CLIENT_SECRET: secret }))
      ]
      expect(all.filter((line) => line.includes(secret))).toEqual([])
    }))
})
