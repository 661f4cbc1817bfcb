/**
 * Why each missed target of issue 13 is missed, from the measured figures,
 * and the next fix. The benchmarks put {{miss:name}} where a target is
 * missed; report.ts writes these texts in its place.
 */
export const MISSES: Record<string, string> = {
  timeline: 'TODO',
  domain: 'TODO',
  aggregation: 'TODO',
  bytes: 'TODO',
  freshness: 'TODO',
  rss: 'TODO',
  ingest: 'TODO'
}
