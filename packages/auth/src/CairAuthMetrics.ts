/**
 * The metrics of `@cair/auth`, named under `cair.auth.` in OpenTelemetry's style, with units. `CairAuth` and
 * `TokenEndpoint` record them with Effect's `Metric` (read them with `Metric.snapshot`, export them with
 * `@effect/opentelemetry`), and into an OpenTelemetry `MeterProvider` when the options name one (`meterProvider`,
 * for apps that use `@opentelemetry/api` without Effect). `metrics: false` records none.
 *
 * Every series carries `cair.client_id`; none carries a secret or a token.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/metrics.js"

/**
 * A metric: its name, instrument, unit (UCUM, as OpenTelemetry writes it), the attributes its series carry
 * besides `cair.client_id`, and what to alert on.
 *
 * @example
 * ```ts
 * import { CairAuthMetrics } from "@cair/auth"
 *
 * const line = (metric: CairAuthMetrics.Descriptor): string =>
 *   `${metric.name} (${metric.instrument}, ${metric.unit}): ${metric.description}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Descriptor {
  readonly name: string
  readonly instrument: "counter" | "histogram"
  readonly unit: string
  readonly description: string
  readonly attributes: ReadonlyArray<string>
  /** The histogram's bucket boundaries. */
  readonly boundaries?: ReadonlyArray<number>
  readonly alert: string
}

/**
 * Every metric `@cair/auth` records.
 *
 * @example
 * ```ts
 * import { CairAuthMetrics } from "@cair/auth"
 *
 * for (const metric of CairAuthMetrics.descriptors) {
 *   console.log(`${metric.name} [${metric.unit}] ${metric.attributes.join(", ")}: alert on ${metric.alert}`)
 * }
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const descriptors: ReadonlyArray<Descriptor> = internal.descriptors

/**
 * Attributes of a measurement, as `@opentelemetry/api` has them.
 *
 * @example
 * ```ts
 * import type { CairAuthMetrics } from "@cair/auth"
 *
 * const attributes: CairAuthMetrics.Attributes = { "cair.client_id": "my-client", "cair.auth.read": "cached" }
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export type Attributes = Readonly<Record<string, string | number | boolean | undefined>>

/**
 * The options of an instrument, as `@opentelemetry/api` has them.
 *
 * @example
 * ```ts
 * import type { CairAuthMetrics } from "@cair/auth"
 *
 * const options: CairAuthMetrics.InstrumentOptions = {
 *   unit: "s",
 *   description: "How long a token request took",
 *   advice: { explicitBucketBoundaries: [0.1, 1, 10] }
 * }
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export interface InstrumentOptions {
  readonly description?: string
  readonly unit?: string
  readonly advice?: { readonly explicitBucketBoundaries?: Array<number> }
}

/**
 * @example
 * ```ts
 * import type { CairAuthMetrics } from "@cair/auth"
 *
 * const total = (counter: CairAuthMetrics.Counter) => counter.add(1, { "cair.auth.outcome": "ok" })
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export interface Counter {
  /** Adds `value` to the series of `attributes`. */
  add(value: number, attributes?: Attributes): void
}

/**
 * @example
 * ```ts
 * import type { CairAuthMetrics } from "@cair/auth"
 *
 * const took = (histogram: CairAuthMetrics.Histogram, seconds: number) => histogram.record(seconds)
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export interface Histogram {
  /** Records one observation in the series of `attributes`. */
  record(value: number, attributes?: Attributes): void
}

/**
 * @example
 * ```ts
 * import type { CairAuthMetrics } from "@cair/auth"
 *
 * const report = (result: CairAuthMetrics.ObservableResult) => result.observe(42, { "cair.auth.read": "cached" })
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export interface ObservableResult {
  /** Reports the current value of the series of `attributes`. */
  observe(value: number, attributes?: Attributes): void
}

/**
 * @example
 * ```ts
 * import type { CairAuthMetrics } from "@cair/auth"
 *
 * const watch = (counter: CairAuthMetrics.ObservableCounter, read: () => number) =>
 *   counter.addCallback((result) => result.observe(read()))
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export interface ObservableCounter {
  /** Calls `callback` at each collection; `@cair/auth` reports its sums there. */
  addCallback(callback: (result: ObservableResult) => void): void
  /** Stops calling `callback`: done when the client closes. */
  removeCallback(callback: (result: ObservableResult) => void): void
}

/**
 * The part of an OpenTelemetry `Meter` that `@cair/auth` uses.
 *
 * @example
 * ```ts
 * import type { CairAuthMetrics } from "@cair/auth"
 *
 * const requests = (meter: CairAuthMetrics.Meter) => meter.createCounter("cair.auth.token.requests")
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export interface Meter {
  /** A monotonic counter, for the counts recorded off the hot path. */
  createCounter(name: string, options?: InstrumentOptions): Counter
  /** A histogram; `advice.explicitBucketBoundaries` carries the buckets of `descriptors`. */
  createHistogram(name: string, options?: InstrumentOptions): Histogram
  /** A counter read at collection, for `cair.auth.token.reads`, counted on the hot path. */
  createObservableCounter(name: string, options?: InstrumentOptions): ObservableCounter
}

/**
 * The part of an OpenTelemetry `MeterProvider` that `@cair/auth` uses: `@opentelemetry/api`'s `MeterProvider` (the
 * global one, `metrics.getMeterProvider()`, or an SDK's) is one, and `@cair/auth` does not depend on that package.
 * The instruments are created on the meter named `@cair/auth`.
 *
 * @example
 * ```ts
 * import { CairAuth, type CairAuthMetrics } from "@cair/auth"
 *
 * declare const meterProvider: CairAuthMetrics.MeterProvider // e.g. metrics.getMeterProvider() of @opentelemetry/api
 * const AuthLive = CairAuth.layer({
 *   clientId: "my-client",
 *   clientSecret: process.env.CAIR_CLIENT_SECRET!,
 *   meterProvider
 * })
 * ```
 *
 * @since 0.1.0
 * @category OpenTelemetry
 */
export interface MeterProvider {
  /** The meter of `name`: `@cair/auth` asks for `"@cair/auth"`. */
  getMeter(name: string): Meter
}
