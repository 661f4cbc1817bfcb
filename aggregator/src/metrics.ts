/**
 * Prometheus metrics (prom-client), one registry per app so that several
 * apps in one process (tests) never collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ReplicaStatus } from './store/db.ts'

/** The aggregator's metrics. */
export interface Metrics {
  registry: Registry
  ingested: Counter<'source'>
  duplicates: Counter<'source'>
  rejected: Counter<'source' | 'reason'>
  requestSeconds: Histogram<'method' | 'route' | 'status'>
  batchSeconds: Histogram<'source'>
  /** Uploads written together in one transaction (group commit, ingest/group-commit.ts). */
  uploadGroup: Histogram
  /** The read replica's gauges (DATABASE_READ_URL); unset without a replica. */
  replica?: ReplicaGauges
}

/** Gauges of the read replica, set when /metrics is read. */
export interface ReplicaGauges {
  reads: Gauge
  lagSeconds: Gauge
  lagBytes: Gauge
}

/**
 * Creates the metrics. `defaults` adds the process metrics (memory, event
 * loop); `replica` (the database's, when DATABASE_READ_URL is set) adds the
 * read replica's gauges.
 */
export function createMetrics(defaults = false, replica?: ReplicaStatus): Metrics {
  const registry = new Registry()
  if (defaults) collectDefaultMetrics({ register: registry })
  return {
    registry,
    ...(replica !== undefined ? { replica: replicaGauges(registry, replica) } : {}),
    ingested: new Counter({ name: 'blockwatch_measurements_ingested_total', help: 'Measurements stored', labelNames: ['source'], registers: [registry] }),
    duplicates: new Counter({ name: 'blockwatch_measurements_duplicate_total', help: 'Measurements received again and not stored twice', labelNames: ['source'], registers: [registry] }),
    rejected: new Counter({ name: 'blockwatch_measurements_rejected_total', help: 'Measurements refused, by reason', labelNames: ['source', 'reason'], registers: [registry] }),
    requestSeconds: new Histogram({
      name: 'blockwatch_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry]
    }),
    batchSeconds: new Histogram({
      name: 'blockwatch_ingest_batch_duration_seconds',
      help: 'Time to store one batch',
      labelNames: ['source'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry]
    }),
    uploadGroup: new Histogram({
      name: 'blockwatch_ingest_upload_group_size',
      help: 'Uploads (requests) written together in one transaction by group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry]
    })
  }
}

/**
 * The replica's gauges, measured when /metrics is read (store/replica.ts
 * says how): whether reads go to the replica, and its lag in seconds and in
 * bytes of WAL. The lag is NaN while the replica does not answer.
 */
function replicaGauges(registry: Registry, replica: ReplicaStatus): ReplicaGauges {
  let last: Promise<{ seconds: number; bytes: number } | null> | undefined
  // One measurement per scrape, shared by the two lag gauges.
  const lag = async (): Promise<{ seconds: number; bytes: number } | null> => {
    last ??= replica.lag().finally(() => {
      setImmediate(() => {
        last = undefined
      })
    })
    return await last
  }
  const reads = new Gauge({
    name: 'blockwatch_replica_reads',
    help: 'Whether researcher and dashboard reads go to the read replica (1) or fall back to the primary (0)',
    registers: [registry],
    collect() {
      this.set(replica.inUse ? 1 : 0)
    }
  })
  const lagSeconds = new Gauge({
    name: 'blockwatch_replica_lag_seconds',
    help: 'Age of the last transaction the replica replayed while it has WAL left to replay; 0 when it has replayed everything the primary wrote',
    registers: [registry],
    async collect() {
      this.set((await lag())?.seconds ?? Number.NaN)
    }
  })
  const lagBytes = new Gauge({
    name: 'blockwatch_replica_lag_bytes',
    help: "Bytes of WAL between the primary's current position and the replica's replay position",
    registers: [registry],
    async collect() {
      this.set((await lag())?.bytes ?? Number.NaN)
    }
  })
  return { reads, lagSeconds, lagBytes }
}
