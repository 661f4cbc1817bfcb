/**
 * Prometheus metrics (prom-client), one registry per app so that several
 * apps in one process (tests) never collide.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** The aggregator's metrics. */
export interface Metrics {
  registry: Registry
  ingested: Counter<'source'>
  duplicates: Counter<'source'>
  rejected: Counter<'source' | 'reason'>
  requestSeconds: Histogram<'method' | 'route' | 'status'>
  batchSeconds: Histogram<'source'>
}

/** Creates the metrics. `defaults` adds the process metrics (memory, event loop). */
export function createMetrics (defaults = false): Metrics {
  const registry = new Registry()
  if (defaults) collectDefaultMetrics({ register: registry })
  return {
    registry,
    ingested: new Counter({ name: 'blockwatch_measurements_ingested_total', help: 'Measurements stored', labelNames: ['source'], registers: [registry] }),
    duplicates: new Counter({ name: 'blockwatch_measurements_duplicate_total', help: 'Measurements received again and not stored twice', labelNames: ['source'], registers: [registry] }),
    rejected: new Counter({ name: 'blockwatch_measurements_rejected_total', help: 'Measurements refused, by reason', labelNames: ['source', 'reason'], registers: [registry] }),
    requestSeconds: new Histogram({ name: 'blockwatch_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    batchSeconds: new Histogram({ name: 'blockwatch_ingest_batch_duration_seconds', help: 'Time to store one batch', labelNames: ['source'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] })
  }
}
