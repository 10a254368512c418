/** A duration for people: `850 ms`, `42 s`, `10 min`, `24 h`. */
export const humanDuration = (ms: number): string => {
  const abs = Math.abs(ms)
  if (abs < 1_000) return `${Math.round(ms)} ms`
  if (abs < 120_000) return `${Math.round(ms / 1_000)} s`
  if (abs < 7_200_000) return `${Math.round(ms / 60_000)} min`
  return `${Math.round(ms / 3_600_000)} h`
}
