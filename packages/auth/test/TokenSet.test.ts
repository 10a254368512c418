/**
 * The wire dates are RFC 3339 date-times with `Z` or a numeric offset, read the same in every time zone (the
 * suite passes under `TZ=America/Los_Angeles` and `TZ=Asia/Kolkata`); anything else does not decode, and the
 * error names the field, never its value.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import { TokenSet } from "../src/TokenSet.js"
import { credentials, jsonResponse, scriptedHttp, secrets } from "./fixtures.js"

const decode = Schema.decodeUnknownEither(TokenSet)
const body = (expiresAt: string) => ({
  accessToken: secrets.accessToken(0),
  refreshToken: secrets.refreshToken(0),
  expiresAt,
  refreshTokenExpiresAt: "2030-01-02T00:00:00Z"
})
const expiresAt = (text: string) => Either.map(decode(body(text)), (tokens) => tokens.expiresAt.getTime())

describe("TokenSet dates", () => {
  it("reads RFC 3339 date-times with Z or an offset, to the millisecond, whatever the machine's zone", () => {
    const accepted: ReadonlyArray<readonly [string, number]> = [
      ["2030-01-01T00:10:00Z", Date.UTC(2030, 0, 1, 0, 10)],
      ["2030-01-01T00:10:00.000Z", Date.UTC(2030, 0, 1, 0, 10)],
      ["2030-01-01T00:10:00.123456789Z", Date.UTC(2030, 0, 1, 0, 10, 0, 123)],
      ["2030-01-01T01:10:00+01:00", Date.UTC(2030, 0, 1, 0, 10)],
      ["2029-12-31T16:10:00-08:00", Date.UTC(2030, 0, 1, 0, 10)],
      ["2030-01-01T05:40:00+05:30", Date.UTC(2030, 0, 1, 0, 10)],
      ["2030-01-01t00:10:00z", Date.UTC(2030, 0, 1, 0, 10)],
      ["2028-02-29T00:00:00Z", Date.UTC(2028, 1, 29)],
      ["2016-12-31T23:59:60Z", Date.UTC(2017, 0, 1)],
      ["0099-01-01T00:00:00Z", -59042995200000]
    ]
    for (const [text, millis] of accepted) expect(expiresAt(text), text).toEqual(Either.right(millis))
  })

  it("refuses anything else: no offset, a bare number, an impossible date or time, other layouts", () => {
    const refused = [
      "2025-03-24T18:38:47",
      "2025-03-24T18:38:47.000",
      "5",
      "1742841527",
      "2025-03-24",
      "2025-03-24 18:38:47Z",
      "2025-02-29T00:00:00Z",
      "2025-04-31T00:00:00Z",
      "2025-13-01T00:00:00Z",
      "2025-03-24T24:00:00Z",
      "2025-03-24T18:60:00Z",
      "2025-03-24T18:38:47+0100",
      "2025-03-24T18:38:47+24:00",
      "2025-03-24T18:38:47 Z",
      "Mon, 24 Mar 2025 18:38:47 GMT",
      "+275760-09-13T00:00:00Z",
      "next tuesday",
      ""
    ]
    for (const text of refused) expect(Either.isLeft(expiresAt(text)), text).toBe(true)
  })

  it("encodes as ISO 8601 in UTC", () => {
    const tokens = Either.getOrThrow(decode(body("2030-01-01T01:10:00+01:00")))
    expect(Schema.encodeSync(TokenSet)(tokens).expiresAt).toBe("2030-01-01T00:10:00.000Z")
  })

  it.effect("a date without an offset is MalformedTokenResponse naming the field, never its value", () =>
    Effect.gen(function*() {
      for (const [field, value] of [["expiresAt", "2025-03-24T18:38:47"], ["refreshTokenExpiresAt", "5"]] as const) {
        const http = yield* scriptedHttp(() =>
          Effect.succeed(jsonResponse(200, { ...body("2030-01-01T00:10:00Z"), [field]: value }))
        )
        const endpoint = yield* TokenEndpoint.make({ ...credentials, baseUrl: "https://cair.test" }).pipe(
          Effect.provide(http.layer)
        )
        const error = yield* Effect.flip(endpoint.requestToken)
        expect(error).toMatchObject({
          _tag: "MalformedTokenResponse",
          problems: [`${field} has the wrong type or format`]
        })
        expect(JSON.stringify(error) + error.message).not.toContain(value === "5" ? "\"5\"" : value)
      }
    }))
})
