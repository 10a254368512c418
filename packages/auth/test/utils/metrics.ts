/**
 * Reading the metrics a test produced: the values of Effect's registry for one client (`cair.client_id`), and a
 * `MeterProvider` that records every instrument and measurement, for the secret scan and the OpenTelemetry side.
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as MetricState from "effect/MetricState"
import type * as CairAuthMetrics from "../../src/CairAuthMetrics.js"

/** The series of one metric of one client: its attributes (without `unit` and `cair.client_id`) and state. */
export interface Series {
  readonly attributes: Readonly<Record<string, string>>
  readonly state: MetricState.MetricState.Untyped
}

/** Every `cair.auth.*` series of `clientId` in Effect's registry, by metric name. */
export const seriesOf = (clientId: string): Effect.Effect<ReadonlyMap<string, ReadonlyArray<Series>>> =>
  Effect.map(Metric.snapshot, (pairs) => {
    const byName = new Map<string, Array<Series>>()
    for (const pair of pairs) {
      const tags = Object.fromEntries(pair.metricKey.tags.map((label) => [label.key, label.value]))
      if (!pair.metricKey.name.startsWith("cair.auth.") || tags["cair.client_id"] !== clientId) continue
      const { "cair.client_id": _, unit: __, ...attributes } = tags
      const list = byName.get(pair.metricKey.name) ?? []
      list.push({ attributes, state: pair.metricState })
      byName.set(pair.metricKey.name, list)
    }
    return byName
  })

const key = (attributes: Readonly<Record<string, string>>) =>
  Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(",")

/**
 * The counters of `clientId` as `{ "metric{attribute=value,...}": count }`, zero counts left out: a test compares
 * the whole object, so a count nobody expected fails it too.
 */
export const countersOf = (clientId: string): Effect.Effect<Readonly<Record<string, number>>> =>
  Effect.map(seriesOf(clientId), (byName) => {
    const out: Record<string, number> = {}
    for (const [name, list] of byName) {
      for (const { attributes, state } of list) {
        if (!("count" in state) || "buckets" in state) continue
        const count = Number(state.count)
        if (count !== 0) out[`${name}{${key(attributes)}}`] = count
      }
    }
    return out
  })

/** The histograms of `clientId` as `{ "metric{...}": { count, sum, min, max } }`. */
export const histogramsOf = (clientId: string) =>
  Effect.map(seriesOf(clientId), (byName) => {
    const out: Record<string, { count: number; sum: number; min: number; max: number }> = {}
    for (const [name, list] of byName) {
      for (const { attributes, state } of list) {
        if (!("buckets" in state)) continue
        const histogram = state as MetricState.MetricState.Histogram
        out[`${name}{${key(attributes)}}`] = {
          count: histogram.count,
          sum: histogram.sum,
          min: histogram.min,
          max: histogram.max
        }
      }
    }
    return out
  })

/** A measurement given to the recording meter. */
export interface Measurement {
  readonly instrument: string
  readonly value: number
  readonly attributes: CairAuthMetrics.Attributes | undefined
}

/**
 * A `MeterProvider` that keeps every instrument created and every measurement; `collect` runs the observable
 * counters' callbacks, as a metric reader would.
 */
export const recordingMeterProvider = () => {
  const instruments: Array<{ readonly meter: string; readonly name: string; readonly options: unknown }> = []
  const measurements: Array<Measurement> = []
  const callbacks = new Map<string, Set<(result: CairAuthMetrics.ObservableResult) => void>>()
  const provider: CairAuthMetrics.MeterProvider = {
    getMeter: (meter) => ({
      createCounter: (name, options) => {
        instruments.push({ meter, name, options })
        return { add: (value, attributes) => measurements.push({ instrument: name, value, attributes }) }
      },
      createHistogram: (name, options) => {
        instruments.push({ meter, name, options })
        return { record: (value, attributes) => measurements.push({ instrument: name, value, attributes }) }
      },
      createObservableCounter: (name, options) => {
        instruments.push({ meter, name, options })
        const set = callbacks.get(name) ?? new Set()
        callbacks.set(name, set)
        return { addCallback: (callback) => set.add(callback), removeCallback: (callback) => set.delete(callback) }
      }
    })
  }
  return {
    provider,
    instruments,
    measurements,
    /** The observations of the observable counters now. */
    collect: (): ReadonlyArray<Measurement> => {
      const observed: Array<Measurement> = []
      for (const [instrument, set] of callbacks) {
        for (const callback of set) {
          callback({ observe: (value, attributes) => observed.push({ instrument, value, attributes }) })
        }
      }
      return observed
    },
    callbackCount: () => [...callbacks.values()].reduce((n, set) => n + set.size, 0)
  }
}
