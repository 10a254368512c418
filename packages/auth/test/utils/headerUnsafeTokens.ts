/**
 * Access tokens a token endpoint might send that are not RFC 6750 bearer tokens (`b64token`), each shaped to be
 * found by the secret scan (`UNSAFE-token-…`, see `secrets.ts`) wherever it might show up.
 */
export const unsafeTokens: ReadonlyArray<string> = [
  "UNSAFE-token-crlf\r\nX-Injected: 1",
  "UNSAFE-token-lf\nX-Injected: 1",
  "UNSAFE-token-cr\r",
  "UNSAFE-token-nul\u0000",
  "UNSAFE-token-tab\t",
  "UNSAFE-token-space here",
  "UNSAFE-token-quote\"",
  "UNSAFE-token-comma,x",
  "UNSAFE-token-non-ascii-é",
  "UNSAFE-token-del\u007f",
  "UNSAFE-token-eq=inside",
  "=UNSAFE-token-leading-eq",
  ""
]

/** Bearer tokens that are fine, with every character `b64token` allows. */
export const safeTokens: ReadonlyArray<string> = [
  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
  "AZaz09-._~+/",
  "abc==",
  "a"
]
