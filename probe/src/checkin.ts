/**
 * Registration and check-in with the aggregator.
 *
 * POST /api/v1/probes/register `{probe_id?, software_name, software_version, platform?}`
 * → `{probe_id, token}` (at `probe init`).
 *
 * POST /api/v1/check-in (Bearer token), before every run, with the outbox's
 * pending counts → the probe's country and ASN as the aggregator sees them,
 * the server's time, the target lists for that country, and the address the
 * aggregator saw (used only to scrub it from measurements; the aggregator
 * does not store it). The probe keeps the last answer and lists on disk, so
 * a run goes ahead offline with what it had.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { platform, arch } from 'node:os'
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../../shared/src/software.ts'
import { writeFileAtomic } from './config.ts'
import { postJson, request, NetworkError, type HttpOptions } from './upload/http.ts'
import type { Outbox, OutboxStats } from './outbox/outbox.ts'
import { saidError } from './i18n/index.ts'

/** A registration failure the volunteer can act on. */
export class RegistrationError extends Error {
  readonly code = 'PROBE_ERR_REGISTER'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RegistrationError'
  }
}

/**
 * Registers the probe at the first of the aggregator's addresses that can be
 * reached (`routes`: one URL or several, in order); returns its id, its
 * token and the address that answered.
 *
 * Every attempt carries `registrationId` (a random UUID when none is
 * given): when an answer is lost after the aggregator stored the probe, the
 * next address, or the next call with the same id, gets the same probe back
 * rather than a second one. Keep the id (the config's registrationId) until
 * a call returns. An aggregator older than registration ids refuses the
 * field (400, field body.registration_id): the attempt is made again
 * without it, as before.
 */
export async function register(
  routes: string | readonly string[],
  probeId: string | null,
  http: HttpOptions,
  registrationId: string = randomUUID()
): Promise<{ probeId: string; token: string; via: string }> {
  const all = typeof routes === 'string' ? [routes] : [...routes]
  const unreachable: string[] = []
  for (const aggregatorUrl of all) {
    const url = new URL('/api/v1/probes/register', aggregatorUrl).toString()
    const attempt = async (withId: boolean): Promise<Awaited<ReturnType<typeof postJson>>> =>
      await postJson(
        url,
        {
          ...(probeId !== null ? { probe_id: probeId } : {}),
          ...(withId ? { registration_id: registrationId } : {}),
          software_name: SOFTWARE_NAME,
          software_version: SOFTWARE_VERSION,
          platform: `${platform()}-${arch()}`
        },
        null,
        http
      )
    let res
    try {
      res = await attempt(true)
      if (res.status === 400 && (res.json as { field?: unknown } | null)?.field === 'body.registration_id') res = await attempt(false)
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err
      unreachable.push(`${aggregatorUrl} (${err.message})`)
      continue
    }
    const j = res.json as { probe_id?: unknown; token?: unknown } | null
    if (j === null && all.indexOf(aggregatorUrl) < all.length - 1) {
      // Not the aggregator's answer (a blockpage, a broken front): try the next address.
      unreachable.push(`${aggregatorUrl} (HTTP ${res.status} that is not the aggregator's)`)
      continue
    }
    if (res.status >= 300 || j === null || typeof j.probe_id !== 'string' || typeof j.token !== 'string') {
      throw saidError(m => new RegistrationError(m), 'register.refused', { url: aggregatorUrl, status: res.status, body: res.text.slice(0, 200) })
    }
    return { probeId: j.probe_id, token: j.token, via: aggregatorUrl }
  }
  throw saidError(m => new RegistrationError(m), 'register.unreachable', { tried: unreachable.join(', ') })
}

/** One target list from a check-in, kept as Citizen Lab CSV. */
export interface CachedList {
  name: string
  priority: boolean
  file: string
  version?: string | null
}

/** What a check-in told the probe (or the last one did, when offline). */
export interface CheckInState {
  probeCc: string
  probeAsn: string
  /** server time − local time, ms (0 when unknown). */
  clockOffsetMs: number
  /** Public addresses the aggregator saw recently (kept in private-addresses.json, never in the outbox): scrubbed from measurements. */
  addresses: string[]
  lists: CachedList[]
  /** When the answer was received (ISO 8601). */
  at: string
  /** False when this is the cached answer of an earlier check-in. */
  fresh: boolean
  /** Why the check-in failed, when it did. */
  error?: string
}

const META_KEY = 'checkin'

/** Reads the cached check-in, or null. */
export function lastCheckIn(outbox: Outbox): CheckInState | null {
  const raw = outbox.getMeta(META_KEY)
  if (raw === null) return null
  try {
    return { ...(JSON.parse(raw) as CheckInState), addresses: [], fresh: false }
  } catch {
    return null
  }
}

/** One list the check-in names: inline CSV, or a URL to fetch it from (the aggregator's `{version, rows, url}`). */
interface ListRef {
  name: string
  csv: string | null
  url: string | null
  version: string | null
  priority: boolean | null
}

/** Reads the aggregator's target_lists: `{name: {version, rows, url}}`, `{name: csv}` or `[{name, csv|url, priority?}]`. */
function listsOf(v: unknown): ListRef[] {
  const out: ListRef[] = []
  const one = (name: string, x: unknown): void => {
    if (typeof x === 'string') {
      out.push({ name, csv: x, url: null, version: null, priority: null })
      return
    }
    if (x === null || typeof x !== 'object') return
    const o = x as Record<string, unknown>
    const csv = typeof o.csv === 'string' ? o.csv : null
    const url = typeof o.url === 'string' ? o.url : null
    if (csv === null && url === null) return
    out.push({ name, csv, url, version: typeof o.version === 'string' ? o.version : null, priority: typeof o.priority === 'boolean' ? o.priority : null })
  }
  if (Array.isArray(v)) {
    for (const x of v as unknown[]) if (x !== null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string') one((x as { name: string }).name, x)
  } else if (v !== null && typeof v === 'object') {
    for (const [name, x] of Object.entries(v as Record<string, unknown>)) one(name, x)
  }
  return out
}

/** The file that keeps the public addresses seen recently, outside the outbox, so that they can be scrubbed while offline. */
export const ADDRESS_FILE = 'private-addresses.json'

/**
 * Keeps the addresses seen in the last 30 days in dataDir/private-addresses.json
 * (mode 0600). They never enter the outbox: they are kept only so that a probe
 * restarted offline can still scrub them (docs/privacy.md).
 */
function mergeAddresses(dataDir: string, seen: string | null, nowMs: number): string[] {
  const file = join(dataDir, ADDRESS_FILE)
  let book: Record<string, number> = {}
  try {
    book = JSON.parse(readFileSync(file, 'utf8'))
  } catch {}
  let changed = false
  if (seen !== null && book[seen] !== nowMs) {
    book[seen] = nowMs
    changed = true
  }
  for (const [a, t] of Object.entries(book))
    if (nowMs - t > 30 * 86_400_000) {
      delete book[a]
      changed = true
    }
  if (changed) writeFileAtomic(file, JSON.stringify(book), 0o600)
  return Object.keys(book)
}

/**
 * The public addresses a probe saw in the last 30 days (dataDir/private-addresses.json),
 * read without touching the file: what `probe run` scrubs besides this
 * machine's own.
 */
export function rememberedAddresses(dataDir: string, nowMs = Date.now()): string[] {
  let book: Record<string, number> = {}
  try {
    book = JSON.parse(readFileSync(join(dataDir, ADDRESS_FILE), 'utf8'))
  } catch {
    return []
  }
  return Object.entries(book)
    .filter(([, t]) => typeof t === 'number' && nowMs - t <= 30 * 86_400_000)
    .map(([a]) => a)
}

/** What a check-in needs. */
export interface CheckInOptions {
  aggregatorUrl: string
  /** Other addresses of the same aggregator, tried in order when aggregatorUrl does not answer. */
  mirrors?: readonly string[]
  token: string
  probeId: string | null
  http: HttpOptions
  dataDir: string
  /** Local clock (ms); a seam for tests. */
  now?: () => number
}

/**
 * Checks in. On any failure it falls back to the last answer (with `fresh`
 * false and `error` set), so runs go on offline; with no earlier answer it
 * returns ZZ/AS0 and no lists.
 */
export async function checkIn(outbox: Outbox, stats: OutboxStats, opts: CheckInOptions): Promise<CheckInState> {
  const now = opts.now ?? Date.now
  const prev = lastCheckIn(outbox)
  const fallback = (error: string): CheckInState => ({
    ...(prev ?? { probeCc: 'ZZ', probeAsn: 'AS0', clockOffsetMs: 0, lists: [], at: new Date(now()).toISOString() }),
    addresses: mergeAddresses(opts.dataDir, null, now()),
    fresh: false,
    error
  })
  let t0 = now()
  let res: Awaited<ReturnType<typeof postJson>> | null = null
  let base = opts.aggregatorUrl
  const errors: string[] = []
  // The first address that answers as the aggregator (JSON) is used for this
  // check-in and its lists; one that is unreachable or answers with
  // something else (a blockpage) passes to the next.
  for (const route of [...new Set([opts.aggregatorUrl, ...(opts.mirrors ?? [])])]) {
    base = route
    t0 = now()
    try {
      res = await postJson(
        new URL('/api/v1/check-in', route).toString(),
        {
          probe_id: opts.probeId,
          software_name: SOFTWARE_NAME,
          software_version: SOFTWARE_VERSION,
          platform: `${platform()}-${arch()}`,
          pending_uploads: { measurements: stats.pending, bytes: stats.pendingBytes, dropped: stats.dropped, quarantined: stats.quarantined }
        },
        opts.token,
        { ...opts.http, timeoutMs: Math.min(opts.http.timeoutMs ?? 15_000, 15_000) }
      )
    } catch (err) {
      errors.push((err as Error).message)
      continue
    }
    if (res.json !== null && typeof res.json === 'object') break
    errors.push(`check-in answered HTTP ${res.status}: ${res.text.slice(0, 200)}`)
    res = null
  }
  if (res === null) return fallback(errors.join('; '))
  const t1 = now()
  const j = res.json as Record<string, unknown> | null
  if (res.status !== 200 || j === null || typeof j !== 'object') return fallback(`check-in answered HTTP ${res.status}: ${res.text.slice(0, 200)}`)
  const serverMs = typeof j.server_time === 'string' || typeof j.server_time === 'number' ? new Date(j.server_time).getTime() : NaN
  // The server stamped its time somewhere during the round trip: compare with the midpoint.
  const offset = Number.isFinite(serverMs) ? Math.round(serverMs - (t0 + t1) / 2) : 0
  // Offsets within the round trip's own uncertainty (and 2 s) are noise.
  const clockOffsetMs = Math.abs(offset) > Math.max(2000, t1 - t0) ? offset : 0
  const ipField = [j.probe_ip, j.client_ip, j.address].find(v => typeof v === 'string' && isIP(v) !== 0) as string | undefined
  const listDir = join(opts.dataDir, 'lists')
  mkdirSync(listDir, { recursive: true, mode: 0o700 })
  const lists: CachedList[] = []
  for (const l of listsOf(j.target_lists)) {
    const safe = l.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)
    const file = join(listDir, `${safe}.csv`)
    const priority = l.priority ?? /^priority$|^[A-Z]{2}$/.test(l.name)
    const cached = prev?.lists.find(c => c.name === l.name)
    if (l.csv === null && cached?.version != null && cached.version === l.version && existsSync(cached.file)) {
      lists.push({ ...cached, priority })
      continue
    }
    let csv = l.csv
    if (csv === null && l.url !== null) {
      // Fetch through the same route (and proxy) as the check-in, whatever host the aggregator names.
      const u = new URL(l.url, base)
      try {
        const r = await request('GET', new URL(u.pathname + u.search, base).toString(), { authorization: `Bearer ${opts.token}`, accept: 'text/csv' }, null, opts.http)
        if (r.status === 200) csv = r.text
      } catch {}
    }
    if (csv === null) {
      if (cached !== undefined && existsSync(cached.file)) lists.push({ ...cached, priority })
      continue
    }
    writeFileAtomic(file, csv, 0o600)
    lists.push({ name: l.name, priority, file, version: l.version })
  }
  const state: CheckInState = {
    probeCc: typeof j.probe_cc === 'string' && /^[A-Z]{2}$/.test(j.probe_cc) ? j.probe_cc : 'ZZ',
    probeAsn: typeof j.probe_asn === 'string' && /^AS\d+$/.test(j.probe_asn) ? j.probe_asn : 'AS0',
    clockOffsetMs,
    addresses: mergeAddresses(opts.dataDir, ipField ?? null, t1),
    lists: lists.length > 0 ? lists : (prev?.lists ?? []),
    at: new Date(t1).toISOString(),
    fresh: true
  }
  // The addresses are not cached with the rest: they never enter the outbox.
  outbox.setMeta(META_KEY, JSON.stringify({ ...state, addresses: [] }))
  return state
}

/** Reads a cached list file's CSV text (for tests and status). */
export function readCachedList(l: CachedList): string {
  return readFileSync(l.file, 'utf8')
}
