/** The `baseUrl` table of the safe-by-default tests (the Effect layer and the Promise adapter). */

/** Base URLs that are accepted: https, or http on a loopback host. */
export const acceptedBaseUrls: ReadonlyArray<string> = [
  "https://forecaster.cairhealth.com",
  "https://cair.example:8443/base/",
  "http://localhost:3000",
  "HTTP://LOCALHOST:3000",
  "http://127.0.0.1:8080",
  "http://127.1.2.3",
  "http://[::1]:3000",
  "http://[0:0:0:0:0:0:0:1]",
  "http://2130706433" // 127.0.0.1, as the URL parser reads it
]

/** Base URLs that are refused, and what the error says. */
export const refusedBaseUrls: ReadonlyArray<readonly [url: string, says: RegExp]> = [
  ["http://forecaster.cairhealth.com", /must use https: \(plain http: is allowed for loopback hosts only\)/],
  ["http://localhost.evil.example", /must use https:/],
  ["http://127.0.0.1.nip.io", /must use https:/],
  ["http://0.0.0.0:3000", /must use https:/],
  ["http://10.0.0.7", /must use https:/],
  ["ws://localhost:3000", /must use https:/],
  ["ftp://cair.example", /must use https:/],
  ["file:///etc/passwd", /must use https:/],
  ["forecaster.cairhealth.com", /not an absolute URL/],
  ["", /not an absolute URL/],
  ["https://user:secret@cair.example", /must not carry a user name or password/],
  ["https://cair.example/?client_secret=x", /must not carry a query or fragment/],
  ["https://cair.example/#x", /must not carry a query or fragment/]
]
