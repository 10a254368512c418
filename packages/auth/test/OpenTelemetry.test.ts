/**
 * The spans and metrics as an OpenTelemetry SDK receives them: spans through `@effect/opentelemetry`'s tracer into
 * an `InMemorySpanExporter` (names, kinds, parents, the HTTP client attributes, `http.request.resend_count`),
 * Effect's metrics through its metric producer, and the `meterProvider` option on the SDK's own `MeterProvider`.
 * Everything exported is scanned for secrets.
 */
import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import * as Tracer from "@effect/opentelemetry/Tracer"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import type * as OtelApi from "@opentelemetry/api"
import { MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor
} from "@opentelemetry/sdk-trace-base"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import * as CairAuth from "../src/CairAuth.js"
import * as CairHttpClient from "../src/CairHttpClient.js"
import { jsonResponse, secrets, tokenResponse } from "./fixtures.js"
import { leaks } from "./utils/secrets.js"

const baseUrl = "https://cair.test"

/** A reader the test collects from itself. */
class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

/** A scripted Cair server: `reply` answers each token request; the `traceparent` of every request is kept. */
const server = (reply: (path: string, index: number, now: number) => Response) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<{ readonly path: string; readonly traceparent?: string }>>([])
    const client = HttpClient.make((request, url) =>
      Effect.gen(function*() {
        const before = yield* Ref.getAndUpdate(seen, (list) => [
          ...list,
          { path: url.pathname, traceparent: request.headers["traceparent"] }
        ])
        return HttpClientResponse.fromWeb(request, reply(url.pathname, before.length, yield* Clock.currentTimeMillis))
      })
    )
    return { layer: Layer.succeed(HttpClient.HttpClient, client), seen: Ref.get(seen) }
  })

const build = (options: Partial<CairAuth.Options>, http: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.map(
    Layer.build(
      CairAuth.layer({
        clientId: "otel-clinic",
        clientSecret: secrets.clientSecret,
        baseUrl,
        retrySchedule: Schedule.exponential("100 millis"),
        ...options
      }).pipe(Layer.provide(http))
    ),
    Context.get(CairAuth.CairAuth)
  )

const attributes = (span: ReadableSpan) => ({ ...span.attributes })

/** `@effect/opentelemetry`'s tracer into an in-memory exporter. */
const otelTracing = () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const tracing = Tracer.layer.pipe(
    Layer.provide(Layer.succeed(Tracer.OtelTracerProvider, provider)),
    Layer.provide(Resource.layer({ serviceName: "cair-auth-test" }))
  )
  return { exporter, tracing }
}

describe("OpenTelemetry", () => {
  it.scoped("one client span per attempt with http.request.resend_count, under one request span and the flight", () =>
    Effect.gen(function*() {
      const { exporter, tracing } = otelTracing()
      // Two 503s, then a token; later the refresh token is rejected and the credentials are used again.
      const http = yield* server((path, index, now) =>
        index < 2
          ? jsonResponse(503, { message: "down" })
          : path === "/api/refresh"
          ? jsonResponse(401, { message: "refresh token revoked" })
          : tokenResponse({ n: index, now, ttlMs: 60_000 })
      )
      yield* Effect.gen(function*() {
        const auth = yield* build({}, http.layer)
        const first = yield* Effect.fork(auth.accessToken)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(first)
        yield* TestClock.adjust("2 minutes")
        yield* auth.accessToken
      }).pipe(Effect.provide(tracing))

      const spans = exporter.getFinishedSpans()
      const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]))
      const parent = (span: ReadableSpan) => byId.get(span.parentSpanContext?.spanId ?? "")?.name
      expect(spans.map((span) => [span.name, parent(span)])).toEqual([
        ["POST /api/token", "TokenEndpoint.requestToken"],
        ["POST /api/token", "TokenEndpoint.requestToken"],
        ["POST /api/token", "TokenEndpoint.requestToken"],
        ["TokenEndpoint.requestToken", "CairAuth.flight"],
        ["CairAuth.flight", undefined],
        ["POST /api/refresh", "TokenEndpoint.refresh"],
        ["TokenEndpoint.refresh", "CairAuth.flight"],
        ["POST /api/token", "TokenEndpoint.requestToken"],
        ["TokenEndpoint.requestToken", "CairAuth.flight"],
        ["CairAuth.flight", undefined]
      ])
      const attempt = {
        "http.request.method": "POST",
        "server.address": "cair.test",
        "server.port": 443,
        "url.full": "https://cair.test/api/token",
        "url.template": "/api/token"
      }
      const [a0, a1, a2, , , r0] = spans
      expect(a0!.kind).toBe(2) // SpanKind.CLIENT
      expect(attributes(a0!)).toMatchObject({ ...attempt, "http.response.status_code": 503, "error.type": "503" })
      expect(attributes(a0!)).not.toHaveProperty("http.request.resend_count")
      expect(attributes(a1!)).toMatchObject({ ...attempt, "http.request.resend_count": 1, "error.type": "503" })
      expect(attributes(a2!)).toMatchObject({ ...attempt, "http.request.resend_count": 2 })
      expect(attributes(a2!)).toMatchObject({ "http.response.status_code": 200 })
      expect(attributes(a2!)).not.toHaveProperty("error.type")
      expect([a0, a1, a2].map((span) => span!.status.code)).toEqual([2, 2, 1]) // ERROR, ERROR, OK
      expect(attributes(r0!)).toMatchObject({
        "url.full": "https://cair.test/api/refresh",
        "http.response.status_code": 401,
        "error.type": "401"
      })
      expect(attributes(spans[3]!)).toMatchObject({
        "cair.client_id": "otel-clinic",
        "cair.auth.endpoint": "token",
        "cair.auth.attempts": 3
      })
      expect(attributes(spans[4]!)).toMatchObject({ "cair.client_id": "otel-clinic", "cair.background": false })
      // The token endpoint learns the attempt's span, and only the attempt's: the HTTP client made none of its own.
      const sent = yield* http.seen
      expect(sent.map((request) => request.traceparent?.split("-")[2])).toEqual(
        spans.filter((span) => span.name.startsWith("POST ")).map((span) => span.spanContext().spanId)
      )
      expect(spans.some((span) => span.name.startsWith("http.client"))).toBe(false)
      expect(
        leaks(spans.map((span) => [span.name, inspect({ ...span, resource: undefined }, { depth: 10 })] as const))
      ).toEqual([])
    }))

  it.scoped("CairHttpClient: the re-send after a 401 is an http.client span with http.request.resend_count 1", () =>
    Effect.gen(function*() {
      const { exporter, tracing } = otelTracing()
      // The token, the API's 401 to it, a new token, the API's 200.
      const http = yield* server((path, index, now) =>
        path.startsWith("/api/")
          ? tokenResponse({ n: index, now })
          : index === 1
          ? jsonResponse(401, { message: "token revoked" })
          : jsonResponse(200, { ok: true })
      )
      yield* Effect.gen(function*() {
        const context = yield* Layer.build(
          CairHttpClient.layer().pipe(
            Layer.provide(CairAuth.layer({ clientId: "otel-clinic", clientSecret: secrets.clientSecret, baseUrl })),
            Layer.provide(http.layer)
          )
        )
        const response = yield* Context.get(context, CairHttpClient.CairHttpClient).get("/v1/reports")
        expect(response.status).toBe(200)
      }).pipe(Effect.provide(tracing))

      const spans = exporter.getFinishedSpans()
      expect(
        spans.filter((span) => span.name.startsWith("http.client")).map((span) => [
          span.name,
          span.attributes["url.path"],
          span.attributes["http.response.status_code"],
          span.attributes["http.request.resend_count"]
        ])
      ).toEqual([
        ["http.client GET", "/v1/reports", 401, undefined],
        ["http.client GET", "/v1/reports", 200, 1]
      ])
      // The re-send's span only: not the token request made for it.
      expect(spans.filter((span) => span.attributes["http.request.resend_count"] !== undefined)).toHaveLength(1)
      expect(
        leaks(spans.map((span) => [span.name, inspect({ ...span, resource: undefined }, { depth: 10 })] as const))
      ).toEqual([])
    }))

  it.scoped("Effect's metrics through @effect/opentelemetry: names, units and attributes", () =>
    Effect.gen(function*() {
      const reader = new TestReader()
      const http = yield* server((_, index, now) => tokenResponse({ n: index, now }))
      // Collected while the layer is open: closing it shuts the reader down.
      const { resourceMetrics } = yield* Effect.gen(function*() {
        const auth = yield* build({ clientId: "otel-effect-metrics" }, http.layer)
        yield* auth.accessToken
        yield* auth.accessToken
        return yield* Effect.promise(() => reader.collect())
      }).pipe(
        Effect.provide(OtelMetrics.layer(() => reader).pipe(Layer.provide(Resource.layer({ serviceName: "test" }))))
      )
      const points = dataPoints(resourceMetrics, "otel-effect-metrics")
      expect(points["cair.auth.token.requests"]).toEqual({
        unit: "{request}",
        points: [{ "cair.auth.endpoint": "token", "cair.auth.outcome": "ok", value: 1 }]
      })
      expect(points["cair.auth.token.reads"]?.points).toEqual(
        expect.arrayContaining([
          { "cair.auth.read": "waited", value: 1 },
          { "cair.auth.read": "cached", value: 1 }
        ])
      )
      expect(points["cair.auth.token.request.duration"]?.unit).toBe("s")
      expect(leaks([["metrics", JSON.stringify(resourceMetrics)]])).toEqual([])
    }))

  it.effect("the meterProvider option on the SDK's MeterProvider: instruments, buckets and the reads", () =>
    Effect.gen(function*() {
      const reader = new TestReader()
      const meterProvider: OtelApi.MeterProvider = new MeterProvider({ readers: [reader] })
      const http = yield* server((_, index, now) => tokenResponse({ n: index, now }))
      const { resourceMetrics } = yield* Effect.scoped(Effect.gen(function*() {
        const auth = yield* build({ clientId: "otel-meter-provider", meterProvider }, http.layer)
        for (let i = 0; i < 4; i++) yield* auth.accessToken
        return yield* Effect.promise(() => reader.collect())
      }))
      const scope = resourceMetrics.scopeMetrics.find((scope) => scope.scope.name === "@cair/auth")!
      const metric = (name: string) => scope.metrics.find((metric) => metric.descriptor.name === name)!
      const id = { "cair.client_id": "otel-meter-provider" }
      expect(metric("cair.auth.token.requests").descriptor).toMatchObject({ unit: "{request}", type: "COUNTER" })
      expect(metric("cair.auth.token.requests").dataPoints.map((point) => [point.attributes, point.value])).toEqual([
        [{ ...id, "cair.auth.endpoint": "token", "cair.auth.outcome": "ok" }, 1]
      ])
      const duration = metric("cair.auth.token.request.duration").dataPoints[0]!.value as {
        readonly buckets: { readonly boundaries: ReadonlyArray<number> }
      }
      expect(duration.buckets.boundaries).toEqual([
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
        120
      ])
      // The reads, counted on the hot path, observed at collection.
      expect(metric("cair.auth.token.reads").descriptor).toMatchObject({ unit: "{read}", type: "OBSERVABLE_COUNTER" })
      expect(metric("cair.auth.token.reads").dataPoints.map((point) => [point.attributes, point.value])).toEqual([
        [{ ...id, "cair.auth.read": "waited" }, 1],
        [{ ...id, "cair.auth.read": "cached" }, 3]
      ])
      expect(leaks([["metrics", JSON.stringify(resourceMetrics)]])).toEqual([])
    }))
})

/** The data points of one client, by metric name, without `cair.client_id` (and `unit`, Effect's unit label). */
const dataPoints = (resourceMetrics: ResourceMetrics, clientId: string) => {
  const out: Record<string, { unit: string; points: Array<Record<string, unknown>> }> = {}
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        const { "cair.client_id": id, unit: _, ...rest } = point.attributes
        if (id !== clientId) continue
        const entry = out[metric.descriptor.name] ??= { unit: metric.descriptor.unit, points: [] }
        entry.points.push(typeof point.value === "number" ? { ...rest, value: point.value } : rest)
      }
    }
  }
  return out
}
