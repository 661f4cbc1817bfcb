/**
 * The durable outbox: every measurement is committed here (SQLite, WAL,
 * synchronous=FULL, so a commit has reached the disk) before any upload is
 * tried, and it leaves the outbox only when the aggregator has answered for
 * it. A kill -9 at any point loses nothing that was committed; an upload whose
 * answer was lost is simply sent again, and the aggregator's deduplication by
 * measurement_uid makes that harmless.
 *
 * States: pending → uploaded (the document is deleted, its uid kept for a
 * while for status and checks), or pending → quarantined (rejected as
 * invalid: kept with the reason, never retried).
 *
 * Bounded size (docs/volunteers.md, "When the outbox is full"): the stored
 * documents may take at most maxBytes. To make room, the outbox drops, in
 * this order: the oldest quarantined documents, then the oldest pending
 * non-priority measurements, then the oldest pending priority ones. Every
 * drop is counted (counters.dropped) and recorded in the drops table, never
 * silent.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Measurement } from '../../../shared/src/measurement.ts'

/** One measurement waiting in the outbox. */
export interface OutboxItem {
  seq: number
  uid: string
  priority: boolean
  doc: string
}

/** The outbox's counts, for `probe status` and for check-in. */
export interface OutboxStats {
  pending: number
  pendingPriority: number
  pendingBytes: number
  uploaded: number
  duplicates: number
  quarantined: number
  dropped: number
  /** Measurements that could not be scrubbed and were never stored. */
  unscrubbable: number
  written: number
  lastError: string | null
  lastErrorAt: string | null
  /** The aggregator address (and proxy) that last delivered a batch, and when. */
  lastRoute: string | null
  lastRouteAt: string | null
  lastUploadAt: string | null
}

/** Why a document was dropped. */
export type DropReason = 'outbox_full' | 'quarantine_full'

/** Options for {@link Outbox.open}. */
export interface OutboxOptions {
  /** Bound on stored documents, bytes. Default 200 MiB. */
  maxBytes?: number
  /** How long the uids of uploaded measurements are kept, days. Default 30. */
  keepUploadedDays?: number
  /** Called for every dropped measurement (logging). */
  onDrop?: (uid: string, reason: DropReason, priority: boolean) => void
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  uid TEXT NOT NULL UNIQUE,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'uploaded', 'quarantined')),
  bytes INTEGER NOT NULL,
  doc TEXT,
  error TEXT,
  created_at TEXT NOT NULL,
  done_at TEXT
);
CREATE INDEX IF NOT EXISTS items_state_seq ON items (state, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS drops (uid TEXT NOT NULL, priority INTEGER NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);
`

/** The on-disk outbox. Open one per process; several processes may share a file. */
export class Outbox {
  readonly #db: Database.Database
  readonly #maxBytes: number
  readonly #keepUploadedMs: number
  readonly #onDrop: OutboxOptions['onDrop']

  private constructor(db: Database.Database, opts: OutboxOptions) {
    this.#db = db
    this.#maxBytes = opts.maxBytes ?? 200 * 1024 * 1024
    this.#keepUploadedMs = (opts.keepUploadedDays ?? 30) * 86_400_000
    this.#onDrop = opts.onDrop
  }

  /** Opens (creating) the outbox in dataDir/outbox.sqlite. */
  static open(dataDir: string, opts: OutboxOptions = {}): Outbox {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const db = new Database(join(dataDir, 'outbox.sqlite'))
    db.pragma('journal_mode = WAL')
    // FULL: a commit is on disk when it returns, so "written to the outbox" means durable.
    db.pragma('synchronous = FULL')
    db.pragma('busy_timeout = 10000')
    db.exec(SCHEMA)
    return new Outbox(db, opts)
  }

  close(): void {
    this.#db.close()
  }

  #bump(name: string, by = 1): void {
    this.#db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value').run(name, by)
  }

  #counter(name: string): number {
    const r = this.#db.prepare('SELECT value FROM counters WHERE name = ?').get(name) as { value: number } | undefined
    return r?.value ?? 0
  }

  /** Reads a state value (last error, cached check-in…). */
  getMeta(key: string): string | null {
    const r = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string | null } | undefined
    return r?.value ?? null
  }

  /** Writes a state value. */
  setMeta(key: string, value: string | null): void {
    this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  /** Counts a measurement that could not be scrubbed (it is never stored). */
  countUnscrubbable(): void {
    this.#bump('unscrubbable')
  }

  #storedBytes(): number {
    const r = this.#db.prepare("SELECT coalesce(sum(bytes), 0) AS b FROM items WHERE state IN ('pending', 'quarantined')").get() as { b: number }
    return r.b
  }

  #drop(row: { seq: number; uid: string; priority: number; state: string }, reason: DropReason, now: string): void {
    this.#db.prepare('DELETE FROM items WHERE seq = ?').run(row.seq)
    this.#db.prepare('INSERT INTO drops (uid, priority, reason, at) VALUES (?, ?, ?, ?)').run(row.uid, row.priority, reason, now)
    this.#bump('dropped')
    this.#onDrop?.(row.uid, reason, row.priority === 1)
  }

  /** Makes room for `need` more bytes under the bound, by the documented policy. */
  #makeRoom(need: number, now: string): void {
    let over = this.#storedBytes() + need - this.#maxBytes
    if (over <= 0) return
    const order = [
      { sql: "SELECT seq, uid, priority, state, bytes FROM items WHERE state = 'quarantined' ORDER BY seq LIMIT 100", reason: 'quarantine_full' as const },
      { sql: "SELECT seq, uid, priority, state, bytes FROM items WHERE state = 'pending' AND priority = 0 ORDER BY seq LIMIT 100", reason: 'outbox_full' as const },
      { sql: "SELECT seq, uid, priority, state, bytes FROM items WHERE state = 'pending' AND priority = 1 ORDER BY seq LIMIT 100", reason: 'outbox_full' as const }
    ]
    for (const step of order) {
      while (over > 0) {
        const rows = this.#db.prepare(step.sql).all() as Array<{ seq: number; uid: string; priority: number; state: string; bytes: number }>
        if (rows.length === 0) break
        for (const r of rows) {
          if (over <= 0) break
          this.#drop(r, step.reason, now)
          over -= r.bytes
        }
      }
    }
  }

  /**
   * Commits one measurement (already scrubbed) to disk. Returns false when
   * its uid is already in the outbox (a run replayed after a crash).
   */
  add(doc: Measurement, priority: boolean, nowMs = Date.now()): boolean {
    const uid = doc.measurement_uid
    if (typeof uid !== 'string' || uid === '') throw new TypeError('a measurement needs a measurement_uid before it enters the outbox')
    const text = JSON.stringify(doc)
    const bytes = Buffer.byteLength(text)
    const now = new Date(nowMs).toISOString()
    return this.#db
      .transaction(() => {
        const exists = this.#db.prepare('SELECT 1 FROM items WHERE uid = ?').get(uid)
        if (exists !== undefined) return false
        this.#makeRoom(bytes, now)
        this.#db.prepare("INSERT INTO items (uid, priority, state, bytes, doc, created_at) VALUES (?, ?, 'pending', ?, ?, ?)").run(uid, priority ? 1 : 0, bytes, text, now)
        this.#bump('written')
        return true
      })
      .immediate()
  }

  /** The oldest pending measurements, priority ones first, up to `limit` items and about `maxBytes` bytes. */
  nextBatch(limit: number, maxBytes = 8 * 1024 * 1024): OutboxItem[] {
    const rows = this.#db.prepare("SELECT seq, uid, priority, doc, bytes FROM items WHERE state = 'pending' ORDER BY priority DESC, seq LIMIT ?").all(limit) as Array<{
      seq: number
      uid: string
      priority: number
      doc: string
      bytes: number
    }>
    const out: OutboxItem[] = []
    let size = 0
    for (const r of rows) {
      if (out.length > 0 && size + r.bytes > maxBytes) break
      size += r.bytes
      out.push({ seq: r.seq, uid: r.uid, priority: r.priority === 1, doc: r.doc })
    }
    return out
  }

  /** All pending measurements, oldest first, streamed (for export). */
  *pending(): Generator<OutboxItem> {
    let after = 0
    for (;;) {
      const rows = this.#db.prepare("SELECT seq, uid, priority, doc FROM items WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT 500").all(after) as Array<{
        seq: number
        uid: string
        priority: number
        doc: string
      }>
      if (rows.length === 0) return
      for (const r of rows) yield { seq: r.seq, uid: r.uid, priority: r.priority === 1, doc: r.doc }
      after = rows[rows.length - 1].seq
    }
  }

  /**
   * Records the aggregator's answer for a batch: the listed uids were stored
   * (accepted or duplicates), the rejected ones are quarantined with their reason.
   */
  settle(storedUids: string[], rejected: Array<{ uid: string; error: string }>, duplicates: number, nowMs = Date.now()): void {
    const now = new Date(nowMs).toISOString()
    this.#db
      .transaction(() => {
        const done = this.#db.prepare("UPDATE items SET state = 'uploaded', doc = NULL, bytes = 0, done_at = ? WHERE uid = ? AND state = 'pending'")
        let n = 0
        for (const uid of storedUids) n += done.run(now, uid).changes
        this.#bump('uploaded', n)
        if (duplicates > 0) this.#bump('duplicates', duplicates)
        const q = this.#db.prepare("UPDATE items SET state = 'quarantined', error = ?, done_at = ? WHERE uid = ? AND state = 'pending'")
        let nq = 0
        for (const r of rejected) nq += q.run(r.error.slice(0, 2000), now, r.uid).changes
        this.#bump('quarantined', nq)
        this.setMeta('last_upload_at', now)
        // Forget the uids of long-uploaded measurements.
        this.#db.prepare("DELETE FROM items WHERE state = 'uploaded' AND done_at < ?").run(new Date(nowMs - this.#keepUploadedMs).toISOString())
      })
      .immediate()
  }

  /** Marks pending measurements as delivered by hand (`probe export --mark-exported`). */
  markExported(uids: string[], nowMs = Date.now()): void {
    this.settle(uids, [], 0, nowMs)
  }

  /**
   * Records the last error (for status): an upload's, or a run's. An upload
   * error is cleared by the next complete drain ({@link clearUploadError});
   * a run's stays until another error replaces it.
   */
  recordError(message: string, nowMs = Date.now(), kind: 'upload' | 'run' = 'upload'): void {
    this.setMeta('last_error', message.slice(0, 500))
    this.setMeta('last_error_at', new Date(nowMs).toISOString())
    this.setMeta('last_error_kind', kind)
  }

  /** Forgets the last error when it was an upload's: the outbox drained since, so it no longer holds. */
  clearUploadError(): void {
    if (this.getMeta('last_error') === null || this.getMeta('last_error_kind') === 'run') return
    this.setMeta('last_error', null)
    this.setMeta('last_error_at', null)
    this.setMeta('last_error_kind', null)
  }

  /**
   * Records the address (and proxy, if any) that last delivered a batch, for
   * `probe status`. It stays in the outbox on the volunteer's machine.
   */
  recordRoute(url: string, proxy: string | null, nowMs = Date.now()): void {
    const route = proxy === null ? url : `${url} via ${proxy}`
    if (this.getMeta('last_route') !== route) this.setMeta('last_route', route)
    this.setMeta('last_route_at', new Date(nowMs).toISOString())
  }

  /** Quarantined measurements with their reasons, newest first. */
  quarantined(limit = 20): Array<{ uid: string; error: string; at: string }> {
    return this.#db.prepare("SELECT uid, error, done_at AS at FROM items WHERE state = 'quarantined' ORDER BY seq DESC LIMIT ?").all(limit) as Array<{ uid: string; error: string; at: string }>
  }

  /** The uids of uploaded measurements still remembered (tests, checks). */
  uploadedUids(): string[] {
    return (this.#db.prepare("SELECT uid FROM items WHERE state = 'uploaded' ORDER BY seq").all() as Array<{ uid: string }>).map(r => r.uid)
  }

  /** The counts. */
  stats(): OutboxStats {
    const p = this.#db.prepare("SELECT count(*) AS n, coalesce(sum(priority), 0) AS np, coalesce(sum(bytes), 0) AS b FROM items WHERE state = 'pending'").get() as { n: number; np: number; b: number }
    return {
      pending: p.n,
      pendingPriority: p.np,
      pendingBytes: p.b,
      uploaded: this.#counter('uploaded'),
      duplicates: this.#counter('duplicates'),
      quarantined: this.#counter('quarantined'),
      dropped: this.#counter('dropped'),
      unscrubbable: this.#counter('unscrubbable'),
      written: this.#counter('written'),
      lastError: this.getMeta('last_error'),
      lastErrorAt: this.getMeta('last_error_at'),
      lastRoute: this.getMeta('last_route'),
      lastRouteAt: this.getMeta('last_route_at'),
      lastUploadAt: this.getMeta('last_upload_at')
    }
  }
}
