import * as Either from "effect/Either"
import { UnsafeRequestUrl, type UnsafeRequestUrlReason } from "../CairAuthError.js"
import type * as TokenScope from "../TokenScope.js"

/** C0 controls, DEL and C1 controls: URL parsing drops tabs and newlines anywhere, and trims the others at the ends. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/

const scheme = /^[a-z][a-z0-9+.-]*:/i

/** Characters a server, proxy or Unicode normalization may read as a separator, once decoded. */
const separatorLike = /[/\\\u2044\u2215\u2216\u29f8\u29f9]/

/** Decodes every run of percent-escapes it can, leaving malformed ones as they are. */
const decodeOnce = (text: string): string =>
  text.replace(/(?:%[0-9a-f]{2})+/gi, (escapes) => {
    try {
      return decodeURIComponent(escapes)
    } catch {
      return escapes
    }
  })

/** What a segment becomes if a server decodes it as often as it can (`%252F` → `%2F` → `/`), then normalizes it. */
const decoded = (segment: string): string => {
  let text = segment
  for (let i = 0; i < 4 && text.includes("%"); i++) {
    const next = decodeOnce(text)
    if (next === text) break
    text = next
  }
  return text.normalize("NFKC")
}

const checkSegment = (segment: string): UnsafeRequestUrlReason | undefined => {
  if (segment === "." || segment === "..") return "DotSegment"
  // Plain ASCII without escapes is what it looks like: nothing to decode.
  if (!/[^\u0020-\u007e]|%/.test(segment)) return undefined
  const text = decoded(segment)
  if (text === "." || text === "..") return "DotSegment"
  if (controlCharacter.test(text)) return "ControlCharacter"
  if (separatorLike.test(text)) return "EncodedSeparator"
  return undefined
}

const checkSegments = (path: string): UnsafeRequestUrlReason | undefined => {
  for (const segment of path.split("/")) {
    const reason = checkSegment(segment)
    if (reason !== undefined) return reason
  }
  return undefined
}

/** @internal */
export const unsafeMake = (baseUrl: string): TokenScope.TokenScope => {
  const base = new URL(baseUrl)
  const origin = base.origin
  const basePath = base.pathname.replace(/\/+$/, "")
  const resolvedBase = origin + basePath
  const refused = (reason: UnsafeRequestUrlReason, other?: string) =>
    Either.left(new UnsafeRequestUrl({ baseUrl: resolvedBase, reason, origin: other }))

  const check = (url: URL): UnsafeRequestUrlReason | undefined => {
    if (url.origin !== origin) return "OtherOrigin"
    if (url.username !== "" || url.password !== "") return "UserInfo"
    const path = url.pathname
    if (basePath !== "" && path !== basePath && !path.startsWith(basePath + "/")) return "OutsideBasePath"
    return checkSegments(path)
  }

  const checked = (url: URL): Either.Either<URL, UnsafeRequestUrl> => {
    const reason = check(url)
    if (reason === undefined) return Either.right(url)
    return refused(reason, reason === "OtherOrigin" ? (url.origin === "null" ? url.protocol : url.origin) : undefined)
  }

  const parse = (input: string, against?: string): URL | undefined => {
    try {
      return new URL(input, against)
    } catch {
      return undefined
    }
  }

  const resolve = (input: string | URL): Either.Either<URL, UnsafeRequestUrl> => {
    if (input instanceof URL) return checked(new URL(input.href))
    if (typeof input !== "string") return refused("NotAUrl")
    if (controlCharacter.test(input)) return refused("ControlCharacter")
    if (scheme.test(input)) {
      const url = parse(input)
      return url === undefined ? refused("NotAUrl") : checked(url)
    }
    // A path reference below the base URL's path: "x" and "/x" both name <base>/x.
    const reference = input.startsWith("/") ? input : `/${input}`
    const end = reference.search(/[?#]/)
    const path = end === -1 ? reference : reference.slice(0, end)
    if (path.startsWith("//")) return refused("NetworkPath")
    if (path.includes("\\")) return refused("Backslash")
    const reason = checkSegments(path)
    if (reason !== undefined) return refused(reason)
    const url = parse(basePath + reference, origin)
    return url === undefined ? refused("NotAUrl") : checked(url)
  }

  return {
    baseUrl: resolvedBase,
    resolve,
    allows: (url) => {
      const parsed = url instanceof URL ? url : parse(url)
      return parsed !== undefined && check(parsed) === undefined
    }
  }
}
