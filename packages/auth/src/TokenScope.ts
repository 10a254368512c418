/**
 * `TokenScope`: the one rule for where the Cair token may go, used by `CairHttpClient` and by the Promise
 * adapter's `fetch`.
 *
 * A request carries the token only if its URL has the base URL's origin (scheme, host and port) and a path
 * under the base URL's path. A relative input is a path below the base URL (`"x"` and `"/x"` both name
 * `<base>/x`); whatever could make it name another place is refused with `UnsafeRequestUrl`, before any byte
 * is sent:
 *
 * - a leading `//`, and a `\` anywhere in the path (URL parsing reads both as the start of a host);
 * - a control character anywhere (URL parsing drops tabs and newlines: `/<TAB>/host` is `//host`);
 * - a `.` or `..` segment, plain or percent-encoded (`%2e%2e`);
 * - a `/`, `\` or `.` hidden in a segment: percent-encoded (`%2F`, `%5C`, or twice, `%252F`) or a Unicode
 *   look-alike (`／`, `∕`, `＼`, `．`), which a server or proxy may decode into a separator;
 * - an absolute URL of another origin, or with a user name or password, or outside the base path.
 *
 * The query is not checked: it cannot change where the request goes.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type { InvalidOptions, UnsafeRequestUrl } from "./CairAuthError.js"
import { parseBaseUrl } from "./internal/options.js"
import * as internal from "./internal/tokenScope.js"

/**
 * @example
 * ```ts
 * import { TokenScope } from "@cair/auth"
 * import * as Either from "effect/Either"
 *
 * const scope: TokenScope.TokenScope = Either.getOrThrow(TokenScope.make("https://forecaster.cairhealth.com/api"))
 * scope.allows(new URL("https://forecaster.cairhealth.com/api/eligibility/v1")) // true
 * scope.allows("https://forecaster.cairhealth.com/admin") // false: not under /api
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenScope {
  /** The base URL: origin and path, without a trailing `/`. */
  readonly baseUrl: string
  /** The absolute URL a request input names, or why it must not get the token. */
  readonly resolve: (input: string | URL) => Either.Either<URL, UnsafeRequestUrl>
  /** Whether an absolute URL (a redirect's target, say) may get the token. */
  readonly allows: (url: string | URL) => boolean
}

/**
 * The scope of a base URL, checked as the `baseUrl` option is (`https:`, or `http:` for a loopback host; no
 * user name, password, query or fragment).
 *
 * @example
 * ```ts
 * import { TokenScope } from "@cair/auth"
 * import * as Either from "effect/Either"
 *
 * const scope = Either.getOrThrow(TokenScope.make("https://forecaster.cairhealth.com"))
 * const paths = ["/api/eligibility/v1", "//evil.example/x", "/\\evil.example/x", "/a/../b", "/%2F%2Fevil.example"]
 * for (const path of paths) {
 *   console.log(path, Either.match(scope.resolve(path), { onLeft: (error) => error.reason, onRight: String }))
 * }
 * // /api/eligibility/v1 https://forecaster.cairhealth.com/api/eligibility/v1
 * // //evil.example/x NetworkPath
 * // /\evil.example/x Backslash
 * // /a/../b DotSegment
 * // /%2F%2Fevil.example EncodedSeparator
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (baseUrl: string | URL): Either.Either<TokenScope, InvalidOptions> =>
  Either.map(parseBaseUrl(baseUrl), internal.unsafeMake)
