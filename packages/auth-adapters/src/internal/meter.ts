import type * as Api from "../CairAuthClient.js"

/**
 * The reads the Promise side answered without asking the core: from its snapshot of the core's last answer, and the
 * callers that shared a call into the core with another (the core counts that call once).
 */
export interface Reads {
  cached: number
  waited: number
  failed: number
}

type Meter = ReturnType<Api.MeterProvider["getMeter"]>
type ObservableCounter = ReturnType<Meter["createObservableCounter"]>
type Callback = Parameters<ObservableCounter["addCallback"]>[0]

/** The core's counter of reads: an observable counter over its own sums, with `cair.auth.read` for the kind. */
const readsCounter = "cair.auth.token.reads"
const readKind = "cair.auth.read"

/**
 * `provider`, with the reads of `reads` added to the core's `cair.auth.token.reads` of `clientId` when the meter
 * collects: an OpenTelemetry user sees every call of the client, as an Effect user sees every call of the core. Each
 * kind the core has not counted yet is observed as it is.
 *
 * @internal
 */
export const withReads = (provider: Api.MeterProvider, clientId: string, reads: Reads): Api.MeterProvider => ({
  getMeter: (name) => {
    const meter = provider.getMeter(name)
    return {
      createCounter: (counter, options) => meter.createCounter(counter, options),
      createHistogram: (histogram, options) => meter.createHistogram(histogram, options),
      createObservableCounter: (counter, options) => {
        const observable = meter.createObservableCounter(counter, options)
        if (counter !== readsCounter) return observable
        const wrapped = new Map<Callback, Callback>()
        return {
          addCallback: (callback) => {
            const withOurs: Callback = (result) => {
              const seen = new Set<unknown>()
              callback({
                observe: (value, attributes) => {
                  const kind = attributes?.[readKind]
                  seen.add(kind)
                  result.observe(
                    value + (typeof kind === "string" && kind in reads ? reads[kind as keyof Reads] : 0),
                    attributes
                  )
                }
              })
              for (const kind of ["cached", "waited", "failed"] as const) {
                if (!seen.has(kind) && reads[kind] > 0) {
                  result.observe(reads[kind], { "cair.client_id": clientId, [readKind]: kind })
                }
              }
            }
            wrapped.set(callback, withOurs)
            observable.addCallback(withOurs)
          },
          removeCallback: (callback) => {
            const withOurs = wrapped.get(callback)
            if (withOurs === undefined) return
            wrapped.delete(callback)
            observable.removeCallback(withOurs)
          }
        }
      }
    }
  }
})
