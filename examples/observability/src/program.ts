/**
 * A short run of `@cair/auth` against the fake Cair server, with `@effect/opentelemetry` collecting its spans and
 * metrics: the first token after two 503s (three attempts, one token request for every caller), cached reads, a
 * revoked token renewed after the API's 401, and a rejected refresh token that falls back to the credentials.
 */
import { CairAuth, CairHttpClient } from "@cair/auth"
import { FakeCairServer } from "@cair/auth-testing"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { SpanKind } from "@opentelemetry/api"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** Where the spans and metrics go: kept in memory, printed at the end. */
export const spans = new InMemorySpanExporter()
/** A Prometheus exporter that does not serve: `collect()` and its serializer print what it would serve. */
export const metrics = new PrometheusExporter({ preventServerStart: true })

/** `@effect/opentelemetry`: Effect's tracer and metric registry, to the OpenTelemetry SDK. */
export const TelemetryLive = NodeSdk.layer(() => ({
  resource: { serviceName: "cair-observability-example" },
  spanProcessor: new SimpleSpanProcessor(spans),
  metricReader: metrics
}))

/** `CairAuth` and `CairHttpClient` on the fake server, which stops when the Layer is released. */
export const AppLive = Layer.unwrapEffect(
  Effect.map(FakeCairServer.FakeCairServer, (server) =>
    CairHttpClient.layer().pipe(
      Layer.provideMerge(CairAuth.layer({ ...server.credentials, baseUrl: server.url })),
      Layer.provide(NodeHttpClient.layerUndici)
    ))
).pipe(Layer.provideMerge(FakeCairServer.layer()))

const { Fault } = FakeCairServer

const check = (memberId: string) =>
  Effect.gen(function*() {
    const client = yield* CairHttpClient.CairHttpClient
    const response = yield* client.execute(
      HttpClientRequest.post("/api/eligibility/v1").pipe(HttpClientRequest.bodyUnsafeJson({ memberId }))
    )
    yield* Console.log(`member ${memberId}: HTTP ${response.status}`)
  })

/** The run: each step in a span of its own. */
export const run = Effect.gen(function*() {
  const server = yield* FakeCairServer.FakeCairServer
  const auth = yield* CairAuth.CairAuth

  yield* server.inject(Fault.Status({ status: 503 }), { path: "/api/token", times: 2 })
  yield* Effect.forEach(["m-1001", "m-1002", "m-1003"], check, { concurrency: "unbounded" }).pipe(
    Effect.withSpan("example: three checks on a cold cache, the token endpoint answering 503 twice")
  )

  yield* Effect.repeatN(auth.accessToken, 999).pipe(Effect.withSpan("example: 1000 cached reads"))

  yield* server.revokeAccessTokens
  yield* check("m-1004").pipe(Effect.withSpan("example: a revoked token, renewed after the API's 401"))

  yield* server.inject(Fault.Status({ status: 401 }), { path: "/api/refresh" })
  yield* auth.refresh.pipe(Effect.withSpan("example: a forced refresh, the refresh token rejected"))

  yield* Console.log(
    `token requests made: ${yield* server.count("/api/token")} to /api/token, ` +
      `${yield* server.count("/api/refresh")} to /api/refresh`
  )
})

/**
 * The finished spans as a tree, each with its kind, status and attributes. The fake server's own spans (kind
 * server: it runs in this process, on the same tracer) are left out.
 */
export const renderSpans = (finished: ReadonlyArray<ReadableSpan>): string => {
  const children = new Map<string | undefined, Array<ReadableSpan>>()
  const ours = finished.filter((span) => span.kind !== SpanKind.SERVER)
  const ids = new Set(ours.map((span) => span.spanContext().spanId))
  for (const span of ours) {
    const parent = span.parentSpanContext?.spanId
    const key = parent !== undefined && ids.has(parent) ? parent : undefined
    children.set(key, [...(children.get(key) ?? []), span])
  }
  const kinds = ["internal", "server", "client", "producer", "consumer"]
  const statuses = ["unset", "ok", "error"]
  const lines: Array<string> = []
  const walk = (parent: string | undefined, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) =>
      a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]
    )
    for (const span of list) {
      const indent = "  ".repeat(depth)
      lines.push(`${indent}${span.name} [${kinds[span.kind]}, ${statuses[span.status.code]}]`)
      for (const [key, value] of Object.entries(span.attributes)) lines.push(`${indent}    ${key} = ${String(value)}`)
      walk(span.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return lines.join("\n")
}

/** The `cair_auth_*` families of what Prometheus would scrape (Effect's own fiber metrics are left out). */
export const cairFamilies = (resourceMetrics: ResourceMetrics): string =>
  new PrometheusSerializer().serialize(resourceMetrics).split("\n")
    .filter((line) => /^(# (HELP|UNIT|TYPE) )?cair_auth_/.test(line))
    .join("\n")

/** The run, then what the SDK got: the spans, and the metrics as Prometheus would scrape them. */
export const main = Effect.gen(function*() {
  yield* run.pipe(Effect.provide(AppLive))
  yield* Console.log(`\n== spans ==\n${renderSpans(spans.getFinishedSpans())}`)
  const collected = yield* Effect.promise(() => metrics.collect())
  yield* Console.log(`\n== metrics (Prometheus text format) ==\n${cairFamilies(collected.resourceMetrics)}`)
}).pipe(Effect.provide(TelemetryLive))
