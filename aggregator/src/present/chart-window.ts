/**
 * Chart windows that fit the data (issue 17, item 6): a chart whose data
 * starts well after its window's start (a 30-day report of a target first
 * measured last week) begins at the first bucket, less a small margin,
 * instead of leaving most of its width empty. The window's end stays: an
 * ongoing block runs to the right edge. Used by the report charts
 * (timeline/chart.ts) and the dashboard's uPlot pages.
 */

/**
 * The start of a chart's x axis, in ms: `sinceMs`, unless the first data
 * (`firstMs`, the earliest bucket's start) comes later; then that bucket
 * less a margin of two buckets or a twentieth of the span shown, whichever
 * is wider, on a bucket bound, and never before `sinceMs`.
 */
export function fitStart(sinceMs: number, untilMs: number, firstMs: number | undefined, grainMs: number): number {
  if (firstMs === undefined || !Number.isFinite(firstMs) || firstMs <= sinceMs || firstMs >= untilMs) return sinceMs
  const margin = Math.max(2 * grainMs, (untilMs - firstMs) / 20)
  return Math.max(sinceMs, Math.floor((firstMs - margin) / grainMs) * grainMs)
}

/** The earliest of some times (ms), or undefined when there are none. */
export function earliest(times: Iterable<number>): number | undefined {
  let min: number | undefined
  for (const t of times) if (Number.isFinite(t) && (min === undefined || t < min)) min = t
  return min
}
