/**
 * What is measured: our two clients, and each peer wired to get its token from the fake server the way it
 * naturally would. Every subject takes a `fetchImpl`, so that a benchmark can see when a token request starts.
 */
import type { AccessToken as AzureAccessToken, TokenCredential } from "@azure/core-auth"
import {
  type AuthorizeRequestOptions,
  bearerTokenAuthenticationPolicy,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient as AzureHttpClient,
  type PipelineResponse
} from "@azure/core-rest-pipeline"
import { type CairAuthClient, createCairAuthClient } from "@cair/auth-adapters"
import { RedisTokenStore } from "@cair/auth-redis"
import * as CairAuth from "@cair/auth/CairAuth"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { memoize } from "@smithy/property-provider"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { type Credentials, OAuth2Client } from "google-auth-library"
import type { FakeServer } from "./FakeServer.js"

export type Fetch = typeof globalThis.fetch

/** Where the subjects get their tokens: the fake server's address and credentials. */
export type Endpoint = Pick<FakeServer, "url" | "clientId" | "clientSecret">

export interface SubjectOptions {
  readonly fetchImpl?: Fetch | undefined
  /** A refresh starts once less than this remains of a token's life (for every subject alike). */
  readonly refreshWindowMs?: number | undefined
  /** The `metrics` option of ours. Default on. */
  readonly metrics?: boolean | undefined
  /** Ours share their token through this Redis (`@cair/auth-redis`). Default: no store. */
  readonly redisUrl?: string | undefined
}

/** A `fetch` that calls `onTokenRequest` when a request to the token endpoints starts. */
export const recordingFetch = (onTokenRequest: () => void): Fetch => (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
  if (url.includes("/api/token") || url.includes("/api/refresh")) onTokenRequest()
  return globalThis.fetch(input, init)
}

// -------------------------------------------------------------------------------------------------------------------
// Ours

export const adapter = (server: Endpoint, options: SubjectOptions = {}): CairAuthClient =>
  createCairAuthClient({
    clientId: server.clientId,
    clientSecret: server.clientSecret,
    baseUrl: server.url,
    refreshWindowMs: options.refreshWindowMs,
    fetch: options.fetchImpl,
    redisUrl: options.redisUrl,
    logLevel: "None"
  })

export const effectLayer = (server: Endpoint, options: SubjectOptions = {}) =>
  CairAuth.layer({
    clientId: server.clientId,
    clientSecret: server.clientSecret,
    baseUrl: server.url,
    refreshWindowMs: options.refreshWindowMs,
    metrics: options.metrics
  }).pipe(
    Layer.provide(options.redisUrl === undefined ? Layer.empty : RedisTokenStore.layer({ url: options.redisUrl })),
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(Layer.succeed(FetchHttpClient.Fetch, options.fetchImpl ?? globalThis.fetch)),
    Layer.merge(Logger.minimumLogLevel(LogLevel.None))
  )

/** The Effect service in a runtime of its own. Building it requests nothing. */
export const effectRuntime = (server: Endpoint, options: SubjectOptions = {}) =>
  ManagedRuntime.make(effectLayer(server, options))

// -------------------------------------------------------------------------------------------------------------------
// Peers

interface FetchedToken {
  readonly accessToken: string
  readonly expiresAt: number
}

/** The token request a peer's provider makes: the client credentials, once, with `fetch`. */
export const fetchToken = async (server: Endpoint, fetchImpl: Fetch = globalThis.fetch): Promise<FetchedToken> => {
  // The adapter's default `requestTimeoutMs`; cleared once answered, so that no timer keeps the request alive.
  const controller = new AbortController()
  const timeout = setTimeout(() => controller.abort(new Error("token request timed out")), 10_000)
  try {
    const response = await fetchImpl(`${server.url}/api/token`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ clientId: server.clientId, clientSecret: server.clientSecret }),
      signal: controller.signal
    })
    if (!response.ok) throw new Error(`token request failed: ${response.status}`)
    const body = await response.json() as { readonly accessToken: string; readonly expiresAt: string }
    return { accessToken: body.accessToken, expiresAt: Date.parse(body.expiresAt) }
  } finally {
    clearTimeout(timeout)
  }
}

/**
 * google-auth-library's hook for tokens from elsewhere: `refreshHandler`. It is called by every caller that finds
 * no fresh token.
 */
export const googleRefreshHandler = (server: Endpoint, options: SubjectOptions = {}): OAuth2Client => {
  const client = new OAuth2Client(
    options.refreshWindowMs === undefined ? {} : { eagerRefreshThresholdMillis: options.refreshWindowMs }
  )
  client.refreshHandler = async () => {
    const token = await fetchToken(server, options.fetchImpl)
    return { access_token: token.accessToken, expiry_date: token.expiresAt }
  }
  return client
}

/**
 * google-auth-library subclassed: the token request replaces `refreshTokenNoCache`, behind the library's
 * own de-duplication of refreshes (`refreshTokenPromises`, keyed by the refresh token).
 */
export class GoogleSubclass extends OAuth2Client {
  constructor(readonly server: Endpoint, readonly options: SubjectOptions = {}) {
    super(options.refreshWindowMs === undefined ? {} : { eagerRefreshThresholdMillis: options.refreshWindowMs })
    this.setCredentials({ refresh_token: "client-credentials" })
  }

  protected override async refreshTokenNoCache(): Promise<{ tokens: Credentials; res: null }> {
    const token = await fetchToken(this.server, this.options.fetchImpl)
    return { tokens: { access_token: token.accessToken, expiry_date: token.expiresAt }, res: null }
  }
}

interface AwsIdentity {
  readonly token: string
  readonly expiration?: Date
}

/** `memoize` as the AWS SDK uses it (`memoizeIdentityProvider`): `isIdentityExpired` with its 5-minute window. */
export const awsMemoize = (
  server: Endpoint,
  options: SubjectOptions = {}
): (options?: { readonly forceRefresh?: boolean }) => Promise<AwsIdentity> => {
  const windowMs = options.refreshWindowMs ?? 300_000
  return memoize<AwsIdentity>(
    async () => {
      const token = await fetchToken(server, options.fetchImpl)
      return { token: token.accessToken, expiration: new Date(token.expiresAt) }
    },
    (identity) => identity.expiration !== undefined && identity.expiration.getTime() - Date.now() < windowMs,
    (identity) => identity.expiration !== undefined
  )
}

type AzureGetAccessToken = AuthorizeRequestOptions["getAccessToken"]

export interface Azure {
  /** One request through the pipeline: the bearer policy, then a transport that answers 200 without sending. */
  readonly send: () => Promise<PipelineResponse>
  /** The policy's token cycler, captured on the first `send`: the policy's cached read, without the pipeline. */
  readonly getAccessToken: () => Promise<AzureAccessToken | null>
}

const azureScopes = ["https://api.cairhealth.com/.default"]

/**
 * `bearerTokenAuthenticationPolicy` with a `TokenCredential` whose `getToken` fetches from the fake server. Its
 * token cycler refreshes 2 minutes before expiry (not configurable: `createTokenCycler(credential /* , options *\/)`).
 * The policy refuses non-https URLs, so requests go to an https URL and a stub transport answers them: only the
 * token requests reach the network (loopback).
 */
export const azure = (server: Endpoint, options: SubjectOptions = {}): Azure => {
  const credential: TokenCredential = {
    getToken: async () => {
      const token = await fetchToken(server, options.fetchImpl)
      return { token: token.accessToken, expiresOnTimestamp: token.expiresAt, tokenType: "Bearer" }
    }
  }
  let cycler: AzureGetAccessToken | undefined
  const pipeline = createEmptyPipeline()
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({
    credential,
    scopes: azureScopes,
    challengeCallbacks: {
      // The library's default, plus keeping hold of `getAccessToken`.
      authorizeRequest: async ({ getAccessToken, request, scopes }) => {
        cycler = getAccessToken
        const token = await getAccessToken(scopes, {
          ...(request.abortSignal === undefined ? {} : { abortSignal: request.abortSignal }),
          ...(request.tracingOptions === undefined ? {} : { tracingOptions: request.tracingOptions }),
          enableCae: true
        })
        if (token) request.headers.set("Authorization", `Bearer ${token.token}`)
      }
    }
  }))
  const transport: AzureHttpClient = {
    sendRequest: async (request) => ({ request, status: 200, headers: createHttpHeaders() })
  }
  return {
    send: () =>
      pipeline.sendRequest(
        transport,
        createPipelineRequest({ url: "https://127.0.0.1/api/eligibility/v1", method: "POST" })
      ),
    getAccessToken: () => {
      if (cycler === undefined) throw new Error("send a request first")
      return cycler(azureScopes, { enableCae: true })
    }
  }
}
