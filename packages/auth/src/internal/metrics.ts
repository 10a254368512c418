import { constVoid } from "effect/Function"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"
import type * as CairAuth from "../CairAuth.js"
import type * as CairAuthMetrics from "../CairAuthMetrics.js"
import type { Now } from "./tokenState.js"

/*
 * Every metric of `@cair/auth`: one table (`descriptors`, public through `CairAuthMetrics`), each entry recorded
 * into Effect's metric registry (what `Metric.snapshot` and `@effect/opentelemetry` read) and, when the options
 * name one, into an OpenTelemetry `MeterProvider`.
 *
 * Updates skip `Metric.increment` on a `Metric.tagged` metric, which looks the series up in the registry on every
 * update (microseconds): each attribute set gets its labels made once, and the metric of its name finds the hook by
 * that array. The cached read's own series has a metric whose key holds the labels, which finds the hook in a
 * variable. The labels are the metric's `unit` (the convention `@effect/opentelemetry` reads the unit from),
 * `cair.client_id`, the metric labels in force when the client was built (`Effect.tagMetrics` around the layer),
 * then the metric's own attributes.
 */

const counter = (
  name: string,
  unit: string,
  description: string,
  attributes: ReadonlyArray<string>,
  alert: string
): CairAuthMetrics.Descriptor => ({ name, instrument: "counter", unit, description, attributes, alert })

/** Seconds, after the OpenTelemetry HTTP client duration buckets, stretched to the longest retry cycle. */
const durationBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
/** Seconds, from the last seconds of a token's life to a day. */
const lifetimeBoundaries = [0, 1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 86400]

/** @internal */
export const specs = {
  tokenRequests: counter(
    "cair.auth.token.requests",
    "{request}",
    "Requests to the Cair token endpoints, each counted once after its retries.",
    ["cair.auth.endpoint", "cair.auth.outcome", "cair.auth.reason"],
    "outcome InvalidCredentials at all (the credentials are wrong or revoked); any other outcome but ok, sustained " +
      "over several minutes (the endpoint is failing: callers are served the cached token until it expires)"
  ),
  tokenRequestDuration: {
    name: "cair.auth.token.request.duration",
    instrument: "histogram",
    unit: "s",
    description: "How long a request to the Cair token endpoints took, its retries and their delays included.",
    attributes: ["cair.auth.endpoint", "cair.auth.outcome", "cair.auth.reason"],
    boundaries: durationBoundaries,
    alert: "p99 near requestTimeoutMs times (maxRetries + 1): requests are timing out"
  },
  tokenRequestRetries: counter(
    "cair.auth.token.request.retries",
    "{retry}",
    "Attempts sent again after a transient failure (a timeout, a connection error, 408, 429 or 5xx).",
    ["cair.auth.endpoint", "cair.auth.reason"],
    "a rate well above the rate of token requests: the endpoint is flaky or rate-limiting"
  ),
  reads: counter(
    "cair.auth.token.reads",
    "{read}",
    "Callers of CairAuth (get, accessToken, tokenSet, refresh): served from the cache at once, served after " +
      "waiting for a token request, or failed.",
    ["cair.auth.read"],
    "read failed above zero: callers get errors instead of tokens; waited far above the rate of token requests " +
      "times the callers per request: tokens are not refreshed ahead of expiry"
  ),
  remainingLifetime: {
    name: "cair.auth.token.remaining_lifetime",
    instrument: "histogram",
    unit: "s",
    description: "Seconds until the token handed to a caller expires, sampled at most once a second per client " +
      "and at every hand-out after a wait.",
    attributes: [],
    boundaries: lifetimeBoundaries,
    alert: "any observation in the lowest buckets (below the expiry margin): tokens are used close to expiry"
  },
  backgroundRefreshes: counter(
    "cair.auth.background_refreshes",
    "{refresh}",
    "Refreshes started in the background within the refresh window, by outcome.",
    ["cair.auth.outcome", "cair.auth.reason"],
    "outcome other than ok, sustained: the token will expire while refreshes fail"
  ),
  fallbacks: counter(
    "cair.auth.fallbacks",
    "{fallback}",
    "Token requests with the client credentials because the refresh token had expired or was rejected.",
    ["cair.auth.reason"],
    "reason RefreshTokenRejected, sustained: several processes rotate one refresh token (share a TokenStore)"
  ),
  invalidations: counter(
    "cair.auth.invalidations",
    "{invalidation}",
    "Access tokens thrown away before their expiry: reason unauthorized after a 401 of the Cair API " +
      "(CairHttpClient, the adapter's fetch), reason invalidate by invalidate and invalidateToken.",
    ["cair.auth.reason"],
    "reason unauthorized at a rate near the rate of token requests: the API rejects fresh tokens (scope, " +
      "audience, clock)"
  ),
  renewalsRefused: counter(
    "cair.auth.renewals_refused",
    "{renewal}",
    "401s of the Cair API answered without a new token: fresh tokens kept being rejected, and renewals rest.",
    [],
    "any, sustained: the API rejects every new token (scope, audience, clock)"
  ),
  leaseWaits: counter(
    "cair.auth.store.lease_waits",
    "{wait}",
    "Waits of a token cycle for the process holding the shared store's lease, for the token it shares (a cycle may " +
      "wait more than once).",
    [],
    "none by itself: normal in a fleet; a rate near the token cycles of every process with takeovers means a " +
      "holder stalls"
  ),
  leaseTakeovers: counter(
    "cair.auth.store.lease_takeovers",
    "{takeover}",
    "Token requests with the credentials because the shared refresh token was claimed by a lease holder that did " +
      "not finish (it died or stalled).",
    [],
    "any, sustained: processes die or stall while holding the lease"
  ),
  storeFallbacks: counter(
    "cair.auth.store.fallbacks",
    "{fallback}",
    "Store operations that failed, after which the token cycle went on without the store: reason unavailable " +
      "(it could not be opened), read or write (Redis unreachable or erroring).",
    ["cair.auth.reason"],
    "any, sustained: the store is down and every process requests its own token"
  )
} satisfies Record<string, CairAuthMetrics.Descriptor>

/** @internal */
export const descriptors: ReadonlyArray<CairAuthMetrics.Descriptor> = Object.values(specs)

type Spec = (typeof specs)[keyof typeof specs]
type Attributes = Readonly<Record<string, string>>

/** The key of a descriptor's metric in Effect's registry, before its labels. */
const keyOf = (spec: CairAuthMetrics.Descriptor): MetricKey.MetricKey<any> =>
  spec.instrument === "counter"
    ? MetricKey.counter(spec.name, { description: spec.description, incremental: true })
    : MetricKey.histogram(spec.name, MetricBoundaries.fromIterable(spec.boundaries ?? []), spec.description)

let baseMetrics: Map<string, Metric.Metric<any, number, unknown>> | undefined
/**
 * The metric of a descriptor's name in Effect's registry, all made on the first series recorded: a process that
 * records nothing (metrics off, or the adapter without a `meterProvider`) does not make them when it loads.
 */
const baseMetric = (name: string): Metric.Metric<any, number, unknown> =>
  (baseMetrics ??= new Map(descriptors.map((spec) => [spec.name, Metric.fromMetricKey(keyOf(spec))]))).get(name)!

const noLabels: ReadonlyArray<MetricLabel.MetricLabel> = []

/**
 * The update of each series of Effect's registry, made once per process: clients of one client id (the adapter's,
 * the endpoint's and the core's recorders, or many clients of one integration) share it instead of each keeping
 * labels and metrics of their own. Bounded like the registry: one entry per series.
 */
const updates = new Map<string, Record1>()

const effectUpdate = (
  spec: Spec,
  clientId: string,
  inherited: ReadonlyArray<MetricLabel.MetricLabel>,
  attributes: Attributes
): Record1 => {
  const labels = [
    MetricLabel.make("unit", spec.unit),
    MetricLabel.make("cair.client_id", clientId),
    ...inherited,
    ...Object.entries(attributes).map(([k, v]) => MetricLabel.make(k, v))
  ]
  const key = JSON.stringify([spec.name, labels.map((label) => [label.key, label.value])])
  let update = updates.get(key)
  if (update === undefined) {
    // The reads are counted on the cached read: a metric whose key holds the labels finds the registry's hook in a
    // variable. The others go through the metric of their name, which finds it by the labels array.
    update = spec === specs.reads
      ? ((metric) => (value: number) => metric.unsafeUpdate(value, noLabels))(
        Metric.fromMetricKey(MetricKey.taggedWithLabels(keyOf(spec), labels))
      )
      : ((metric) => (value: number) => metric.unsafeUpdate(value, labels))(baseMetric(spec.name))
    updates.set(key, update)
  }
  return update
}

/** Records one value of one metric for a fixed set of attributes. */
type Record1 = (value: number) => void

/**
 * What `CairAuth`, `TokenEndpoint` and the stores record. `disabled` records nothing.
 *
 * @internal
 */
export interface Recorder {
  /**
   * A recorder for a metric and attributes. Its series is made on the first value recorded: a client costs
   * nothing for what it never records (integrators hold thousands).
   */
  readonly bind: (spec: Spec, attributes?: Attributes) => Record1
  readonly enabled: boolean
  /** Stops reporting the sums of the reads to the meter: the client closed. */
  readonly close: () => void
}

/** @internal */
export const disabled: Recorder = { bind: () => constVoid, enabled: false, close: constVoid }

/** @internal */
export interface RecorderOptions {
  readonly clientId: string
  readonly metrics?: boolean | undefined
  readonly meterProvider?: CairAuthMetrics.MeterProvider | undefined
}

/** The name the instruments are created under. @internal */
export const meterName = "@cair/auth"

/** @internal */
export const make = (options: RecorderOptions, inherited: ReadonlyArray<MetricLabel.MetricLabel>): Recorder => {
  if (options.metrics === false) return disabled
  const lazy = (make: () => Record1): Record1 => {
    let record: Record1 | undefined
    return (value) => (record ??= make())(value)
  }
  if (options.meterProvider === undefined) {
    return {
      bind: (spec, attributes = {}) => lazy(() => effectUpdate(spec, options.clientId, inherited, attributes)),
      enabled: true,
      close: constVoid
    }
  }
  const meter = options.meterProvider.getMeter(meterName)
  const instruments = new Map<string, CairAuthMetrics.Counter | CairAuthMetrics.Histogram>()
  const instrument = (spec: Spec) => {
    let found = instruments.get(spec.name)
    if (found === undefined) {
      found = spec.instrument === "counter"
        ? meter.createCounter(spec.name, { description: spec.description, unit: spec.unit })
        : meter.createHistogram(spec.name, {
          description: spec.description,
          unit: spec.unit,
          advice: { explicitBucketBoundaries: [...(spec.boundaries ?? [])] }
        })
      instruments.set(spec.name, found)
    }
    return found
  }
  /**
   * The reads are counted on the cached read, where an OpenTelemetry counter's `add` (a clock read and an
   * attribute hash) would cost more than the read: they are kept as sums here, which an observable counter
   * reports when the meter collects.
   */
  const sums = new Map<string, Array<{ readonly attributes: Attributes; value: number }>>()
  const callbacks: Array<() => void> = []
  const sum = (spec: Spec, attributes: Attributes) => {
    let list = sums.get(spec.name)
    if (list === undefined) {
      const series: Array<{ readonly attributes: Attributes; value: number }> = []
      list = series
      sums.set(spec.name, series)
      const observable = meter.createObservableCounter(spec.name, { description: spec.description, unit: spec.unit })
      const callback = (result: CairAuthMetrics.ObservableResult) => {
        for (const { attributes, value } of series) result.observe(value, attributes)
      }
      observable.addCallback(callback)
      callbacks.push(() => observable.removeCallback(callback))
    }
    const entry = { attributes, value: 0 }
    list.push(entry)
    return entry
  }
  /** With a meter: the record of each series, the meter's instrument beside the registry. */
  const bound = new Map<string, Record1>()
  const series = (spec: Spec, attributes: Attributes): Record1 => {
    const update = effectUpdate(spec, options.clientId, inherited, attributes)
    const key = `${spec.name}\u0000${Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join("\u0000")}`
    let record = bound.get(key)
    if (record !== undefined) return record
    const all: Attributes = { "cair.client_id": options.clientId, ...attributes }
    if (spec === specs.reads) {
      const entry = sum(spec, all)
      record = (value) => {
        update(value)
        entry.value += value
      }
    } else {
      const otel = instrument(spec)
      record = "add" in otel
        ? (value) => {
          update(value)
          otel.add(value, all)
        }
        : (value) => {
          update(value)
          otel.record(value, all)
        }
    }
    bound.set(key, record)
    return record
  }
  const bind = (spec: Spec, attributes: Attributes = {}): Record1 => lazy(() => series(spec, attributes))
  return { bind, enabled: true, close: () => callbacks.splice(0).forEach((remove) => remove()) }
}

/**
 * The attributes of a request's outcome: `ok`, or the error's tag, with `TokenRequestFailed`'s reason.
 *
 * @internal
 */
export const outcome = (
  error: { readonly _tag: string; readonly reason?: unknown } | undefined
): Attributes =>
  error === undefined
    ? { "cair.auth.outcome": "ok" }
    : typeof error.reason === "string"
    ? { "cair.auth.outcome": error._tag, "cair.auth.reason": error.reason }
    : { "cair.auth.outcome": error._tag }

/**
 * The reads of one client: the cached read is counted with one call, and the remaining lifetime of the token
 * handed out is sampled at most once a second by the monotonic clock (and at every hand-out after a wait).
 *
 * @internal
 */
export const reads = (recorder: Recorder) => {
  const cached = recorder.bind(specs.reads, { "cair.auth.read": "cached" })
  const waited = recorder.bind(specs.reads, { "cair.auth.read": "waited" })
  const failed = recorder.bind(specs.reads, { "cair.auth.read": "failed" })
  const remaining = recorder.bind(specs.remainingLifetime)
  let nextSampleAt = -Infinity
  const sample = (token: CairAuth.AccessToken, at: Now) => {
    nextSampleAt = at.mono + 1_000
    remaining((token.expiresAt - at.wall) / 1_000)
  }
  return {
    /** A token handed out without waiting. */
    cached: recorder.enabled
      ? (token: CairAuth.AccessToken, at: Now) => {
        cached(1)
        if (at.mono >= nextSampleAt) sample(token, at)
      }
      : constVoid,
    /** A token handed out after waiting for a token request. */
    waited: (token: CairAuth.AccessToken, at: Now) => {
      waited(1)
      sample(token, at)
    },
    failed: () => failed(1)
  }
}
