/**
 * A read replica behind the primary (issue 18, item 1; docs/scale.md, "Read
 * replicas"). With DATABASE_READ_URL set, the {@link Database} the server
 * uses is the primary's, plus a `reader` that sends researcher and dashboard
 * reads to a streaming replica, and back to the primary while the replica
 * does not answer:
 *
 *  - a connection error from the replica (refused, reset, timed out, the
 *    server shutting down or starting up) is logged once, at warn, with its
 *    reason; the statement runs on the primary, and so does every read after
 *    it until a background check finds the replica answering again (after
 *    1 s, then doubling up to 30 s), which is logged too;
 *  - a statement the replica cancelled because replay needed its rows (a
 *    recovery conflict, SQLSTATE 40001 or 40P01 on a standby) runs again on
 *    the primary, without marking the replica down;
 *  - any other error (bad SQL, a write sent to the replica by mistake:
 *    25006 read_only_sql_transaction) is thrown as it is, so that tests
 *    find it.
 *
 * Writes, transactions, COPY, advisory locks and migrations are the
 * primary's: the returned Database is the primary with a reader added.
 */
import type { Database, ReplicaLag, ReplicaLogger, ReplicaStatus, Reader } from './db.ts'

/** Back-off of the check that brings reads back to a replica that stopped answering. */
export interface ReplicaRetry {
  /** The first check, after the replica stopped answering. Default 1000 ms. */
  firstMs: number
  /** The longest wait between checks. Default 30000 ms. */
  maxMs: number
}

const DEFAULT_RETRY: ReplicaRetry = { firstMs: 1000, maxMs: 30_000 }

// Node's socket errors: the replica's host or port cannot be reached.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])
// SQLSTATEs the server sends when it cannot serve this session: class 08
// (connection exception), 57P01–57P03 (shut down by the administrator,
// crashed, cannot connect now: starting or stopping), 53300 (too many
// connections). Reads are better served by the primary meanwhile.
const SERVER_DOWN = /^(08...|57P0[1-3]|53300)$/
// node-postgres throws its own errors without any code when a connection
// ends or cannot be made in time; their messages are all it gives.
const PG_CLIENT_LOST = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/
// On a standby, these two mean replay cancelled the statement (a recovery
// conflict), not that the query was wrong: it can run on the primary.
const RECOVERY_CONFLICT = new Set(['40001', '40P01'])

/** True when `err` says the replica could not be reached or is going away. */
export function isReplicaDown(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null
  if (e === null || typeof e !== 'object') return false
  const code = typeof e.code === 'string' ? e.code : ''
  if (SOCKET_CODES.has(code) || SERVER_DOWN.test(code)) return true
  if (err instanceof AggregateError) return err.errors.some(isReplicaDown)
  return code === '' && typeof e.message === 'string' && PG_CLIENT_LOST.test(e.message)
}

/** The reason logged for an error: its code and message (a database host at most; never a client's address). */
function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown }
  const msg = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err)
  return typeof e?.code === 'string' ? `${e.code}: ${msg}` : msg
}

const stderrLogger: ReplicaLogger = {
  warn: (_obj, msg) => {
    process.stderr.write(`blockwatch: ${msg}\n`)
  },
  info: (_obj, msg) => {
    process.stderr.write(`blockwatch: ${msg}\n`)
  }
}

/**
 * The primary with a reader on `replica` (opened by the caller; closed with
 * the result). `retry` sets the back-off of the recovery check.
 */
export function withReplica(primary: Database, replica: Database, retry: Partial<ReplicaRetry> = {}): Database {
  const { firstMs, maxMs } = { ...DEFAULT_RETRY, ...retry }
  let up = true
  let waitMs = firstMs
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const status: ReplicaStatus = {
    get inUse() {
      return up
    },
    logger: stderrLogger,
    lag: async () => (up ? await measureLag(primary, replica) : null)
  }

  const check = (): void => {
    timer = setTimeout(() => {
      timer = undefined
      replica.query('SELECT 1').then(
        () => {
          if (closed) return
          up = true
          waitMs = firstMs
          status.logger.info({ replica: 'back' }, 'the read replica (DATABASE_READ_URL) answers again: researcher and dashboard reads go back to it')
        },
        () => {
          if (closed) return
          waitMs = Math.min(waitMs * 2, maxMs)
          check()
        }
      )
    }, waitMs)
    // A pending check never keeps the process alive.
    timer.unref()
  }

  const markDown = (err: unknown): void => {
    if (!up || closed) return
    up = false
    status.logger.warn(
      { replica: 'down', reason: reasonOf(err) },
      `the read replica (DATABASE_READ_URL) does not answer (${reasonOf(err)}): researcher and dashboard reads fall back to the primary; checking the replica again in ${waitMs} ms`
    )
    check()
  }

  const reader: Reader = {
    async query(sql, params) {
      if (up) {
        try {
          return await replica.query(sql, params)
        } catch (err) {
          if (isReplicaDown(err)) markDown(err)
          else if (!RECOVERY_CONFLICT.has(String((err as { code?: unknown }).code))) throw err
        }
      }
      return await primary.query(sql, params)
    }
  }

  return {
    kind: primary.kind,
    query: async (sql, params) => await primary.query(sql, params),
    copyIn: async (target, data) => {
      await primary.copyIn(target, data)
    },
    exec: async sql => {
      await primary.exec(sql)
    },
    transaction: async fn => await primary.transaction(fn),
    withAdvisoryLock: async (key, fn) => await primary.withAdvisoryLock(key, fn),
    reader,
    replica: status,
    async close() {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      await Promise.all([replica.close(), primary.close()])
    }
  }
}

/**
 * How far the replica is behind, in bytes and in seconds.
 *
 * Bytes: the primary's current WAL position minus the position the replica
 * has replayed (the replica is asked first, so the figure is never below
 * the truth). Exact, and zero whenever the replica has everything.
 *
 * Seconds: zero when no bytes are left to replay; otherwise the age of the
 * last transaction the replica replayed (now() − pg_last_xact_replay_timestamp()
 * on the replica), an upper bound of how old its data can be. The replay
 * timestamp alone would be wrong on an idle primary: it is the time of the
 * last commit, which grows old while nothing is written though the replica
 * is not behind at all, hence the byte test first. The bound is loose just
 * after a long idle spell (the first new write shows the whole idle time
 * until it is replayed); the event job writes every few seconds, so a
 * running aggregator's primary is seldom idle.
 */
async function measureLag(primary: Database, replica: Database): Promise<ReplicaLag | null> {
  try {
    const r = await replica.query<{ lsn: string | null; age: number | null }>(
      'SELECT pg_last_wal_replay_lsn()::text AS lsn, extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS age'
    )
    const { lsn, age } = r.rows[0]
    // A server that never was a standby has no replay position: not a replica.
    if (lsn === null) return null
    const p = await primary.query<{ bytes: string }>('SELECT greatest(pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn), 0)::bigint::text AS bytes', [lsn])
    const bytes = Number(p.rows[0].bytes)
    return { bytes, seconds: bytes === 0 ? 0 : Math.max(0, Number(age ?? Number.NaN)) }
  } catch {
    return null
  }
}
