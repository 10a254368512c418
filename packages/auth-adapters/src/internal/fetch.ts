import type { TokenScope } from "@cair/auth"
// The core's own scrubbing, bundled with it: one rule for what a header value in an error becomes.
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import { scrubCause } from "../../../auth/src/internal/scrub.js"

/** What `fetch` needs of the client's token cache. */
export interface Tokens {
  /** The current token; rejects at once with the signal's reason when it is aborted. */
  readonly get: (signal: AbortSignal | undefined) => Promise<string>
  /**
   * A request with `token` got a 401: the core throws exactly that token away (a late 401 for a replaced one
   * changes nothing) and answers whether the request may be sent again with a new token.
   */
  readonly rejected: (token: string) => Promise<boolean>
}

/** @internal */
export interface Options {
  readonly fetch: typeof globalThis.fetch
  /** The rule for where the token may go, from the core's base URL. */
  readonly scope: () => TokenScope.TokenScope | Promise<TokenScope.TokenScope>
  readonly tokens: Tokens
}

/** Whether `fetch` can send this body a second time. */
const isReplayable = (body: RequestInit["body"]): boolean =>
  body === undefined || body === null || typeof body === "string" || body instanceof URLSearchParams ||
  body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof FormData

const normalizedMethods = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"])
/** As fetch does: the standard methods in upper case, any other as given. */
const normalizeMethod = (method: string): string =>
  normalizedMethods.has(method.toUpperCase()) ? method.toUpperCase() : method

const redirectStatuses = new Set([301, 302, 303, 307, 308])
/** The limit of the fetch standard. */
const maxRedirects = 20
const bodyHeaders = ["content-encoding", "content-language", "content-location", "content-type", "content-length"]

const fetchFailed = (reason: string) => new TypeError("fetch failed", { cause: new Error(reason) })

/** One request as it is sent, hop after hop. */
interface Hop {
  readonly url: URL
  readonly method: string
  readonly headers: Headers
  /** The body for one send; each call gives a body that can be sent (a fresh copy, or the same bytes). */
  readonly body: () => RequestInit["body"]
  readonly replayable: boolean
}

/**
 * Whether a response came from a URL off the rule: the app's fetch followed a redirect by itself, despite
 * `redirect: "manual"` (a `Response` made by hand has no `url`, and says nothing).
 */
const answeredElsewhere = (rule: TokenScope.TokenScope, response: Response): boolean => {
  if (response.url === "") return false
  try {
    return !rule.allows(new URL(response.url))
  } catch {
    return true
  }
}

/** @internal */
export const make = ({ fetch: fetchImpl, scope, tokens }: Options) => {
  let resolved: TokenScope.TokenScope | undefined

  const send = async (hop: Hop, init: RequestInit, token: string | undefined): Promise<Response> => {
    const headers = new Headers(hop.headers)
    if (token === undefined) headers.delete("authorization")
    else headers.set("authorization", `Bearer ${token}`)
    try {
      return await fetchImpl(hop.url, {
        ...init,
        method: hop.method,
        headers,
        body: hop.body() ?? null,
        redirect: init.redirect === "follow" || init.redirect === undefined ? "manual" : init.redirect
      })
    } catch (error) {
      throw scrubCause(error, token === undefined ? [] : [token])
    }
  }

  /**
   * One hop: with the token if its URL passes the rule, else without any `Authorization`. Every 401 of the API
   * is reported to the core, which invalidates the token it carried; when the core allows it, a body that can be
   * sent again is sent once more with a new token. A 401 from elsewhere (the app's fetch followed a redirect by
   * itself) is not the API's: it invalidates nothing and is never answered by sending the token again.
   */
  const sendHop = async (rule: TokenScope.TokenScope, hop: Hop, init: RequestInit): Promise<Response> => {
    const signal = init.signal ?? undefined
    if (!rule.allows(hop.url)) return send(hop, init, undefined)
    const token = await tokens.get(signal)
    const response = await send(hop, init, token)
    if (response.status !== 401 || answeredElsewhere(rule, response)) return response
    const retry = await tokens.rejected(token)
    if (!retry || !hop.replayable) return response
    await response.body?.cancel()
    const next = await tokens.get(signal)
    const again = await send(hop, init, next)
    if (again.status === 401) await tokens.rejected(next)
    return again
  }

  /** What a redirect makes of the request, as fetch does it; `undefined` for a response that is not one. */
  const follow = async (hop: Hop, response: Response, hops: number): Promise<Hop | undefined> => {
    if (!redirectStatuses.has(response.status)) return undefined
    const location = response.headers.get("location")
    if (location === null) return undefined
    await response.body?.cancel()
    if (hops >= maxRedirects) throw fetchFailed("redirect count exceeded")
    let url: URL
    try {
      url = new URL(location, hop.url)
    } catch {
      throw fetchFailed("the redirect's Location is not a URL")
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw fetchFailed("URL scheme must be a HTTP(S) scheme")
    const toGet = ((response.status === 301 || response.status === 302) && hop.method === "POST") ||
      (response.status === 303 && hop.method !== "GET" && hop.method !== "HEAD")
    if (toGet) {
      const headers = new Headers(hop.headers)
      for (const name of bodyHeaders) headers.delete(name)
      return { url, method: "GET", headers, body: () => null, replayable: true }
    }
    if (!hop.replayable) throw fetchFailed("cannot follow a redirect with a stream body")
    return { ...hop, url }
  }

  const start = (rule: TokenScope.TokenScope, input: string | URL | Request, init: RequestInit | undefined) => {
    if (input instanceof Request) {
      // As global fetch: init applies over the Request (method, headers, body, signal, …).
      const request = init === undefined ? input : new Request(input, init)
      const url = Either.getOrThrowWith(rule.resolve(request.url), identity)
      let source = request
      const hop: Hop = {
        url,
        method: request.method,
        headers: request.headers,
        body: () => {
          if (source.body === null) return null
          const spare = source.clone()
          const body = source.body
          source = spare
          return body
        },
        replayable: true
      }
      const requestInit: RequestInit = {
        signal: request.signal,
        redirect: request.redirect,
        cache: request.cache,
        credentials: request.credentials,
        integrity: request.integrity,
        keepalive: request.keepalive,
        referrerPolicy: request.referrerPolicy,
        ...(request.body === null ? {} : { duplex: "half" } as RequestInit)
      }
      return { hop, init: requestInit }
    }
    const url = Either.getOrThrowWith(rule.resolve(input), identity)
    const body = init?.body
    const hop: Hop = {
      url,
      method: normalizeMethod(init?.method ?? "GET"),
      headers: new Headers(init?.headers),
      body: () => body,
      replayable: isReplayable(body)
    }
    return { hop, init: init ?? {} }
  }

  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const rule = resolved ?? (resolved = await scope())
    let request: { readonly hop: Hop; readonly init: RequestInit }
    try {
      request = start(rule, input, init)
    } catch (error) {
      throw scrubCause(error, [])
    }
    const signal = request.init.signal
    if (signal?.aborted) throw signal.reason
    let hop = request.hop
    for (let hops = 0;; hops++) {
      const response = await sendHop(rule, hop, request.init)
      const mode = request.init.redirect
      if (mode !== undefined && mode !== "follow") return response
      const next = await follow(hop, response, hops)
      if (next === undefined) return response
      hop = next
    }
  }
}
