/**
 * The metrics of the Promise client in an OpenTelemetry SDK's `MeterProvider`, over real HTTP against the fake
 * server: exact counts, the reads the client answers from its snapshot included.
 */
import { FakeCairServer } from "@cair/auth-testing"
import type * as OtelApi from "@opentelemetry/api"
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics"
import { afterEach, beforeEach, expect, it } from "vitest"
import { leaks } from "../../auth/test/utils/secrets.js"
import { type CairAuthClient, createCairAuthClient } from "../src/index.js"

class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

let server: FakeCairServer.Handle
const clients: Array<CairAuthClient> = []

beforeEach(async () => {
  server = await FakeCairServer.start()
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((auth) => auth.close()))
  await server.stop()
})

/** A client on an SDK `MeterProvider` (typed as `@opentelemetry/api`'s), and its data points by metric. */
const metered = (options: { readonly metrics?: boolean } = {}) => {
  const reader = new TestReader()
  const meterProvider: OtelApi.MeterProvider = new MeterProvider({ readers: [reader] })
  const auth = createCairAuthClient({ ...server.credentials, baseUrl: server.url, meterProvider, ...options })
  clients.push(auth)
  const collect = async () => {
    const { resourceMetrics } = await reader.collect()
    const points: Record<string, Array<readonly [Record<string, unknown>, unknown]>> = {}
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        points[metric.descriptor.name] = metric.dataPoints.map((point) => {
          const { "cair.client_id": _, ...attributes } = point.attributes
          return [attributes, typeof point.value === "number" ? point.value : (point.value as { count: number }).count]
        })
      }
    }
    return { points, text: JSON.stringify(resourceMetrics) }
  }
  return { auth, collect }
}

it("counts every call: the callers that shared the first request, and the reads from the client's own cache", async () => {
  const { auth, collect } = metered()
  await Promise.all(Array.from({ length: 10 }, () => auth.getAccessToken()))
  for (let i = 0; i < 100; i++) await auth.getAccessToken()
  const { points, text } = await collect()
  expect(server.count("/api/token")).toBe(1)
  expect(points["cair.auth.token.requests"]).toEqual([[
    { "cair.auth.endpoint": "token", "cair.auth.outcome": "ok" },
    1
  ]])
  expect(points["cair.auth.token.request.duration"]).toEqual([
    [{ "cair.auth.endpoint": "token", "cair.auth.outcome": "ok" }, 1]
  ])
  expect(points["cair.auth.token.reads"]).toEqual([
    [{ "cair.auth.read": "waited" }, 10],
    [{ "cair.auth.read": "cached" }, 100]
  ])
  expect(leaks([["metrics", text]], [server.credentials.clientSecret])).toEqual([])
})

it("a 401 of the API through fetch: one invalidation, one renewal", async () => {
  const { auth, collect } = metered()
  await auth.getAccessToken()
  server.revokeAccessTokens()
  const response = await auth.fetch("/api/eligibility/v1", { method: "POST", body: JSON.stringify({ memberId: "m" }) })
  expect(response.status).toBe(200)
  const { points } = await collect()
  expect(points["cair.auth.invalidations"]).toEqual([[{ "cair.auth.reason": "unauthorized" }, 1]])
  expect(points["cair.auth.token.requests"]).toEqual([
    [{ "cair.auth.endpoint": "token", "cair.auth.outcome": "ok" }, 1],
    [{ "cair.auth.endpoint": "refresh", "cair.auth.outcome": "ok" }, 1]
  ])
})

it("metrics: false creates no instrument", async () => {
  const { auth, collect } = metered({ metrics: false })
  await auth.getAccessToken()
  await auth.getAccessToken()
  expect((await collect()).points).toEqual({})
})
