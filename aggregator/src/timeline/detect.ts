/**
 * Event detection: from one series' hourly per-probe rollup rows to its
 * blocking events (country × domain × test_name), or from one country's
 * rows to its outages. Pure: no I/O, no clock; the job (job.ts) loads the
 * rows and stores the episodes.
 *
 * The method, in docs/methodology.md ("Timelines, states and events"):
 * 1. Per network (ASN), a one-sided CUSUM over the hours that hold usable
 *    measurements: each anomalous measurement adds ANOMALY_WEIGHT, each ok
 *    one subtracts OK_WEIGHT, clamped to [0, SCORE_CAP]. A phase opens when
 *    the score reaches PHASE_ON and closes when ok measurements bring it
 *    back to 0. Hours without measurements leave the score as it is: a gap
 *    is unknown, not unblocked.
 * 2. Phases of all networks that overlap or lie within MERGE_GAP_MS of each
 *    other form one episode: a national block is one event listing its
 *    networks, and a block that flaps does not split.
 * 3. An episode becomes an event when ≥ 2 sources in ≥ 2 ASNs witnessed it,
 *    or ≥ 2 sources with 3 days of history each, or one confirmed blockpage.
 * 4. Onset and end lie between the block's first (last) anomalous
 *    measurement and the ok measurement just before (after) it, found by
 *    edgeBracket() around the first and last hours where anomalies are the
 *    majority; they are reported halfway between the two (DETECT.EDGE_AT),
 *    not rounded to hours. An event stays ongoing (end null) until its
 *    networks show MERGE_GAP_MS of data after its last anomaly with the
 *    score back at 0.
 */

/** One probe's counts in one hour of a series (a row of tl_probe_hour). */
export interface ProbeHourRow {
  /** The hour, epoch milliseconds. */
  hour: number
  asn: string
  region: string
  probe: string
  n: number
  ok: number
  anomaly: number
  confirmed: number
  failure: number
  down: number
  unreachable: number
  first_anomaly: number | null
  last_anomaly: number | null
  first_unreachable: number | null
  last_unreachable: number | null
  /**
   * The first and last ok measurements (not anomalous, not failed, not
   * down), epoch milliseconds: they bound an edge where the probe last saw
   * the target reachable. Absent in rows that do not keep them; the
   * detector then estimates them from the probe's interval.
   */
  first_ok?: number | null
  last_ok?: number | null
  /** An anomalous measurement's uid, prefixed "1" when confirmed and "0" otherwise. */
  sample_uid: string | null
  blocking_type: string | null
}

/** What the detector knows of a probe. */
export interface ProbeInfo {
  /** Its first measurement, epoch milliseconds. */
  first_seen: number
  /**
   * Its independence key: probes sharing one (registered together, one
   * owner) count as one source. Defaults to the probe itself.
   */
  source?: string
}

/** Why an episode became an event. */
export type EventRule = 'networks' | 'history' | 'confirmed' | 'outage'

/** A detected episode, ready to be stored as an event. */
export interface Episode {
  kind: 'blocking' | 'outage'
  /**
   * Onset: for a blocking event, halfway between its first anomalous
   * measurement and the ok one just before (see edgeTime); for an outage,
   * its first unreachable measurement.
   */
  start: number
  /** End, the same way mirrored; null while ongoing. */
  end: number | null
  /** Last anomalous (or unreachable) measurement. */
  last: number
  asns: string[]
  regions: string[]
  blocking_type: string | null
  measurement_count: number
  anomaly_count: number
  confirmed_count: number
  probe_count: number
  source_count: number
  sample_uids: string[]
  confidence: number
  rule: EventRule
  outlier: boolean
  outlier_reason: string | null
}

/** The detector's parameters. */
export const DETECT = Object.freeze({
  ANOMALY_WEIGHT: 3,
  OK_WEIGHT: 2,
  PHASE_ON: 8,
  SCORE_CAP: 12,
  MERGE_GAP_MS: 6 * 3600_000,
  HISTORY_MS: 3 * 86400_000,
  /** A witness needs this many anomalous measurements in the episode… */
  WITNESS_MIN_ANOMALIES: 2,
  /** …and at least this share of its usable ones. */
  WITNESS_MIN_SHARE: 0.5,
  /** Outages: share of unreachable measurements that marks an hour. */
  OUTAGE_SHARE: 0.5,
  OUTAGE_MIN_SOURCES: 2,
  /**
   * Where an event's start (end) is reported: 'anomalous', its first (last)
   * anomalous measurement; 'midpoint', halfway between that and the ok
   * measurement just before (after) it, when the rows kept that one's time.
   */
  EDGE_AT: 'midpoint' as 'midpoint' | 'anomalous'
})

const HOUR = 3600_000

interface Phase {
  asn: string
  start: number
  last: number
  /** Hour at which the score fell back to 0; null while open. */
  closedAt: number | null
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>()
  for (const x of xs) {
    const k = key(x)
    const list = m.get(k)
    if (list === undefined) m.set(k, [x])
    else list.push(x)
  }
  return m
}

interface NetHour {
  hour: number
  a: number
  o: number
  usable: number
  firstA: number | null
  lastA: number | null
}

function netHours(rows: ProbeHourRow[]): NetHour[] {
  const byHour = new Map<number, NetHour>()
  for (const r of rows) {
    let h = byHour.get(r.hour)
    if (h === undefined) {
      h = { hour: r.hour, a: 0, o: 0, usable: 0, firstA: null, lastA: null }
      byHour.set(r.hour, h)
    }
    h.a += r.anomaly + r.confirmed
    h.o += r.ok - r.down // a down target says nothing about blocking
    h.usable += r.n - r.failure
    if (r.first_anomaly !== null) h.firstA = h.firstA === null ? r.first_anomaly : Math.min(h.firstA, r.first_anomaly)
    if (r.last_anomaly !== null) h.lastA = h.lastA === null ? r.last_anomaly : Math.max(h.lastA, r.last_anomaly)
  }
  return [...byHour.values()].sort((x, y) => x.hour - y.hour)
}

/** The CUSUM phases of one network's hours. */
export function networkPhases(asn: string, hours: NetHour[], p = DETECT): Phase[] {
  const phases: Phase[] = []
  let s = 0
  let runStart: number | null = null
  let majorityStart: number | null = null
  let open: Phase | null = null
  for (const h of hours) {
    if (h.a === 0 && h.o === 0) continue
    // Onset and end come from hours where anomalies are the majority, so
    // that a stray false positive next to a block does not stretch it.
    const majority = h.a > h.o
    if (s === 0 && h.a > 0) {
      runStart = h.firstA ?? h.hour
      majorityStart = null
    }
    if (majority && majorityStart === null) majorityStart = h.firstA ?? h.hour
    s = Math.min(p.SCORE_CAP, Math.max(0, s + p.ANOMALY_WEIGHT * h.a - p.OK_WEIGHT * h.o))
    if (open === null && s >= p.PHASE_ON && runStart !== null) {
      open = { asn, start: majorityStart ?? runStart, last: h.lastA ?? h.hour, closedAt: null }
      phases.push(open)
    } else if (open !== null && majority) {
      open.last = Math.max(open.last, h.lastA ?? h.hour)
    }
    if (s === 0) {
      if (open !== null) open.closedAt = h.hour
      open = null
      runStart = null
      majorityStart = null
    }
  }
  return phases
}

const isAnomalous = (r: ProbeHourRow | undefined): r is ProbeHourRow => r !== undefined && r.anomaly + r.confirmed > 0 && r.first_anomaly !== null

/** An episode's edge as its probes measured it (see edgeBracket). */
export interface EdgeBracket {
  /** The first anomalous measurement of the block (for an end: the last). */
  anomalous: number
  /**
   * The ok measurement of the block's probes just before it (for an end:
   * just after), or null when none is known within two hours. A time the
   * rows kept (first_ok / last_ok) when `measured`, otherwise estimated
   * from the probe's interval.
   */
  ok: number | null
  measured: boolean
}

/**
 * An episode's onset (or end) from its probes' own measurements, around
 * `hour`, its first (or last) hour where anomalies are the majority: the
 * block's first (last) anomalous measurement and the ok measurement just
 * before (after) it, so that the true edge lies between the two.
 *
 * Each probe whose anomalous run reaches that hour (for the onset: the
 * probe's first anomalous hour from that one on; for the end: its last up
 * to it), followed outwards to at most one hour beyond the majority hour
 * (hours the probe did not measure in are skipped) and through hours whose
 * anomalies are of the probe's kind inside the block (its most common
 * blocking type from that hour inwards; an anomaly of another kind beside
 * a block is not the block), proposes the first
 * (last) anomalous measurement of each hour of its run, and bounds the
 * block by its last ok measurement before its run (for the end: its first
 * ok after): in the run's outer hour when that hour holds an ok
 * measurement before (after) its anomalies, else in the probe's next
 * measured hour outwards. Rows without first_ok / last_ok give no time
 * for the ok measurement: it is then the outer hour's start (end), or one
 * measurement interval (an hour ÷ the probe's measurements that hour)
 * before (after) the run, within the next measured hour. The onset is the
 * earliest proposal later than every bound (the end: the latest earlier
 * than every bound): a false positive just before the block lies before
 * another probe's ok measurement, and is passed over; the bracket's ok
 * side is the latest bound (the end: the earliest). Null when no proposal
 * is consistent. A false positive of the block's kind with no other
 * probe's measurement between it and the block is taken for its edge.
 */
export function edgeBracket(rows: ProbeHourRow[], hour: number, edge: 'start' | 'end'): EdgeBracket | null {
  const dir = edge === 'start' ? -1 : 1
  const byProbe = new Map<string, Map<number, ProbeHourRow>>()
  for (const r of rows) {
    if (r.hour < hour - 2 * HOUR || r.hour > hour + 2 * HOUR) continue
    let m = byProbe.get(r.probe)
    if (m === undefined) {
      m = new Map()
      byProbe.set(r.probe, m)
    }
    const prev = m.get(r.hour)
    // One probe in two regions or networks in one hour: add them up.
    m.set(r.hour, prev === undefined ? r : mergeRows(prev, r))
  }
  const proposals: number[] = []
  const bounds: Array<{ at: number; measured: boolean }> = []
  for (const hours of byProbe.values()) {
    // The probe's kind of anomaly inside the block (from `hour` inwards): an
    // anomaly of another kind next to the block is not the block.
    const kind = mostCommon([...hours.values()].filter(r => dir * (r.hour - hour) <= 0 && isAnomalous(r)).map(r => r.blocking_type))
    const ofBlock = (r: ProbeHourRow | undefined): r is ProbeHourRow => isAnomalous(r) && (kind === null || r.blocking_type === null || r.blocking_type === kind)
    const inner = [hour, hour - dir * HOUR].find(h => ofBlock(hours.get(h)))
    if (inner === undefined) continue
    // The probe's rows outwards from there (for the onset: back in time),
    // skipping hours it did not measure in.
    const outwards = [...hours.values()].filter(r => dir * (r.hour - inner) >= 0).sort((x, y) => dir * (x.hour - y.hour))
    let i = 0
    while (i + 1 < outwards.length && Math.abs(outwards[i + 1].hour - hour) <= HOUR && ofBlock(outwards[i + 1])) i++
    for (const r of outwards.slice(0, i + 1)) proposals.push(edge === 'start' ? r.first_anomaly! : r.last_anomaly!)
    const bound = okBeside(outwards[i], outwards[i + 1], edge)
    if (bound !== null) bounds.push(bound)
  }
  // Earliest proposals first (for an end: latest first).
  proposals.sort((a, b) => dir * (b - a))
  const anomalous = proposals.find(at => bounds.every(b => dir * (b.at - at) > 0))
  if (anomalous === undefined) return null
  // The ok side: the bound nearest the edge (all lie outwards of it).
  const ok = bounds.reduce<{ at: number; measured: boolean } | null>((x, b) => (x === null || dir * (b.at - x.at) < 0 ? b : x), null)
  return { anomalous, ok: ok?.at ?? null, measured: ok?.measured ?? false }
}

/** Two rows of one probe and hour added up. */
function mergeRows(a: ProbeHourRow, b: ProbeHourRow): ProbeHourRow {
  const least = (x: number | null | undefined, y: number | null | undefined): number | null => (x == null ? (y ?? null) : y == null ? x : Math.min(x, y))
  const most = (x: number | null | undefined, y: number | null | undefined): number | null => (x == null ? (y ?? null) : y == null ? x : Math.max(x, y))
  return {
    ...a,
    n: a.n + b.n,
    ok: a.ok + b.ok,
    anomaly: a.anomaly + b.anomaly,
    confirmed: a.confirmed + b.confirmed,
    down: a.down + b.down,
    first_anomaly: least(a.first_anomaly, b.first_anomaly),
    last_anomaly: most(a.last_anomaly, b.last_anomaly),
    first_ok: a.first_ok === undefined || b.first_ok === undefined ? undefined : least(a.first_ok, b.first_ok),
    last_ok: a.last_ok === undefined || b.last_ok === undefined ? undefined : most(a.last_ok, b.last_ok)
  }
}

/**
 * A probe's ok measurement just outside its anomalous run (for the onset:
 * before it), from the run's outer row and the probe's next measured row
 * outwards (`beside`), or null when neither holds one.
 */
function okBeside(outer: ProbeHourRow, beside: ProbeHourRow | undefined, edge: 'start' | 'end'): { at: number; measured: boolean } | null {
  const start = edge === 'start'
  const at = start ? outer.first_anomaly! : outer.last_anomaly!
  if (outer.first_ok !== undefined && outer.last_ok !== undefined) {
    // Measured: the latest ok time known before the run's first anomaly (for
    // the end: the earliest after its last), in the outer hour or the next.
    if (outer.first_ok !== null && outer.last_ok !== null) {
      if (start && outer.first_ok < at) return { at: outer.last_ok < at ? outer.last_ok : outer.first_ok, measured: true }
      if (!start && outer.last_ok > at) return { at: outer.first_ok > at ? outer.first_ok : outer.last_ok, measured: true }
    }
    const t = start ? beside?.last_ok : beside?.first_ok
    return t === undefined || t === null ? null : { at: t, measured: true }
  }
  if (outer.ok > 0) {
    // An ok measurement in the same hour: somewhere before its first
    // anomaly (after its last), time unknown.
    return { at: start ? outer.hour : outer.hour + HOUR, measured: false }
  }
  if (beside !== undefined && beside.ok > 0) {
    // The ok measurement an interval earlier (later), within the next measured hour.
    return { at: Math.min(beside.hour + HOUR - 1, Math.max(beside.hour, at + ((start ? -1 : 1) * HOUR) / outer.n)), measured: false }
  }
  return null
}

/**
 * The time reported for an episode's onset (or end): see edgeBracket and
 * DETECT.EDGE_AT.
 */
export function edgeTime(rows: ProbeHourRow[], hour: number, edge: 'start' | 'end', p = DETECT): number | null {
  const b = edgeBracket(rows, hour, edge)
  return b === null ? null : reportedEdge(b, p)
}

function reportedEdge(b: EdgeBracket, p: typeof DETECT): number {
  if (p.EDGE_AT === 'anomalous' || b.ok === null || !b.measured) return b.anomalous
  return Math.round((b.ok + b.anomalous) / 2)
}

interface Cluster {
  phases: Phase[]
  start: number
  last: number
  open: boolean
}

function cluster(phases: Phase[], gapMs: number): Cluster[] {
  const sorted = [...phases].sort((a, b) => a.start - b.start)
  const out: Cluster[] = []
  for (const ph of sorted) {
    const cur = out[out.length - 1]
    if (cur !== undefined && (cur.open || ph.start <= cur.last + gapMs)) {
      cur.phases.push(ph)
      cur.last = Math.max(cur.last, ph.last)
      cur.open ||= ph.closedAt === null
    } else {
      out.push({ phases: [ph], start: ph.start, last: ph.last, open: ph.closedAt === null })
    }
  }
  return out
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)].sort()
}

function mostCommon(xs: Array<string | null>): string | null {
  const counts = new Map<string, number>()
  for (const x of xs) if (x !== null) counts.set(x, (counts.get(x) ?? 0) + 1)
  let best: string | null = null
  let n = 0
  for (const [k, v] of counts)
    if (v > n || (v === n && best !== null && k < best)) {
      best = k
      n = v
    }
  return best
}

function sampleUids(rows: ProbeHourRow[], max = 5): string[] {
  return rows
    .map(r => r.sample_uid)
    .filter((u): u is string => u !== null)
    .sort((a, b) => b.localeCompare(a)) // confirmed ("1…") first
    .slice(0, max)
    .map(u => u.slice(1))
}

/**
 * Detects the blocking events of one series (one country × domain ×
 * test_name) from all of its rows.
 */
export function detectBlocking(rows: ProbeHourRow[], probes: ReadonlyMap<string, ProbeInfo>, p = DETECT): Episode[] {
  const byAsn = groupBy(rows, r => r.asn)
  const phases: Phase[] = []
  const lastUsable = new Map<string, number>()
  for (const [asn, list] of byAsn) {
    const hours = netHours(list)
    phases.push(...networkPhases(asn, hours, p))
    const usable = hours.filter(h => h.usable > 0)
    if (usable.length > 0) lastUsable.set(asn, usable[usable.length - 1].hour)
  }
  const episodes: Episode[] = []
  for (const c of cluster(phases, p.MERGE_GAP_MS)) {
    const asns = uniq(c.phases.map(ph => ph.asn))
    // Onset and end, refined on the episode's networks together: around the
    // first and last hours where their anomalies outnumber their ok
    // measurements (so that a false positive in one network next to the
    // block does not stretch it), between the probes' own first and last
    // anomalous measurements and their ok ones just outside (see edgeBracket).
    const own = rows.filter(r => asns.includes(r.asn))
    const near = netHours(own.filter(r => r.hour >= Math.floor(c.start / HOUR) * HOUR - HOUR && r.hour <= c.last + HOUR))
    const majority = near.filter(h => h.a > h.o)
    // What is reported; the window and the rules below use the anomalous measurements.
    let reported = { start: c.start, end: c.last }
    if (majority.length > 0) {
      const first = majority[0]
      const lastH = majority[majority.length - 1]
      const s = edgeBracket(own, first.hour, 'start')
      const e = edgeBracket(own, lastH.hour, 'end')
      c.start = s?.anomalous ?? first.firstA ?? first.hour
      c.last = e?.anomalous ?? lastH.lastA ?? lastH.hour
      reported = { start: s === null ? c.start : reportedEdge(s, p), end: e === null ? c.last : reportedEdge(e, p) }
    }
    const inWindow = rows.filter(r => asns.includes(r.asn) && r.hour + HOUR > c.start && r.hour <= c.last)
    // Witnesses: probes whose measurements in the episode were mostly anomalous.
    const perProbe = groupBy(inWindow, r => r.probe)
    const witnesses: Array<{ probe: string; asn: string; confirmed: number }> = []
    const others: string[] = []
    for (const [probe, list] of perProbe) {
      const a = list.reduce((s, r) => s + r.anomaly + r.confirmed, 0)
      const usable = list.reduce((s, r) => s + r.n - r.failure - r.down, 0)
      const confirmed = list.reduce((s, r) => s + r.confirmed, 0)
      if (confirmed > 0 || (a >= p.WITNESS_MIN_ANOMALIES && a >= p.WITNESS_MIN_SHARE * usable)) {
        witnesses.push({ probe, asn: list[0].asn, confirmed })
      } else if (usable > 0) {
        others.push(probe)
      }
    }
    const sourceOf = (probe: string): string => probes.get(probe)?.source ?? probe
    const established = (probe: string): boolean => {
      const info = probes.get(probe)
      return info !== undefined && info.first_seen <= c.start - p.HISTORY_MS
    }
    const sources = uniq(witnesses.map(w => sourceOf(w.probe)))
    const witnessAsns = uniq(witnesses.map(w => w.asn))
    const confirmedCount = inWindow.reduce((s, r) => s + r.confirmed, 0)
    const establishedSources = uniq(witnesses.filter(w => established(w.probe)).map(w => sourceOf(w.probe)))
    let rule: EventRule | null = null
    if (confirmedCount > 0) rule = 'confirmed'
    else if (sources.length >= 2 && witnessAsns.length >= 2) rule = 'networks'
    else if (establishedSources.length >= 2) rule = 'history'
    if (rule === null) continue

    const witnessRows = inWindow.filter(r => witnesses.some(w => w.probe === r.probe))
    const anomalyCount = witnessRows.reduce((s, r) => s + r.anomaly, 0)
    // Poisoning: established probes of the same networks that saw the
    // target reachable while the witnesses, newer, said it was blocked.
    const establishedOthers = uniq(others.filter(established).map(sourceOf))
    const outlier = establishedOthers.length >= 2 && establishedOthers.length > establishedSources.length * 2
    const closedAll = c.phases.every(ph => ph.closedAt !== null)
    const dataAfter = Math.max(...asns.map(a => lastUsable.get(a) ?? 0))
    const ended = closedAll && dataAfter >= c.last + p.MERGE_GAP_MS
    let confidence = rule === 'confirmed' ? 0.95 : Math.min(0.9, 0.5 + 0.1 * Math.min(3, witnessAsns.length - 1) + 0.05 * Math.min(4, sources.length - 1))
    if (outlier) confidence /= 2
    episodes.push({
      kind: 'blocking',
      start: reported.start,
      end: ended ? reported.end : null,
      last: c.last,
      asns: witnessAsns.length > 0 ? witnessAsns : asns,
      regions: uniq(witnessRows.map(r => r.region).filter(x => x !== '')),
      blocking_type: mostCommon(witnessRows.map(r => r.blocking_type)),
      measurement_count: inWindow.reduce((s, r) => s + r.n, 0),
      anomaly_count: anomalyCount,
      confirmed_count: confirmedCount,
      probe_count: witnesses.length,
      source_count: sources.length,
      sample_uids: sampleUids(witnessRows),
      confidence: Math.round(confidence * 100) / 100,
      rule,
      outlier,
      outlier_reason: outlier
        ? `${establishedOthers.length} established probe sources in the same networks saw the target reachable, against ${establishedSources.length} established sources among the ${sources.length} that reported it blocked`
        : null
    })
  }
  return episodes
}

/**
 * Detects one country's outages from its rows summed over every target:
 * runs of hours in which most measurements of a network reached neither
 * the target nor the control, seen by ≥ 2 sources.
 */
export function detectOutages(rows: ProbeHourRow[], probes: ReadonlyMap<string, ProbeInfo>, p = DETECT): Episode[] {
  const phases: Phase[] = []
  for (const [asn, list] of groupBy(rows, r => r.asn)) {
    const hours = new Map<number, { n: number; u: number; first: number | null; last: number | null }>()
    for (const r of list) {
      let h = hours.get(r.hour)
      if (h === undefined) {
        h = { n: 0, u: 0, first: null, last: null }
        hours.set(r.hour, h)
      }
      h.n += r.n
      h.u += r.unreachable
      if (r.first_unreachable !== null) h.first = h.first === null ? r.first_unreachable : Math.min(h.first, r.first_unreachable)
      if (r.last_unreachable !== null) h.last = h.last === null ? r.last_unreachable : Math.max(h.last, r.last_unreachable)
    }
    let open: Phase | null = null
    for (const [hour, h] of [...hours].sort((a, b) => a[0] - b[0])) {
      if (h.n === 0) continue
      if (h.u >= p.OUTAGE_SHARE * h.n && h.u > 0) {
        if (open === null) {
          open = { asn, start: h.first ?? hour, last: h.last ?? hour, closedAt: null }
          phases.push(open)
        } else open.last = Math.max(open.last, h.last ?? hour)
      } else if (open !== null) {
        open.closedAt = hour
        open = null
      }
    }
  }
  const episodes: Episode[] = []
  for (const c of cluster(phases, HOUR)) {
    const asns = uniq(c.phases.map(ph => ph.asn))
    const inWindow = rows.filter(r => asns.includes(r.asn) && r.hour + HOUR > c.start && r.hour <= c.last)
    const hit = inWindow.filter(r => r.unreachable > 0)
    const probeKeys = uniq(hit.map(r => r.probe))
    const sources = uniq(probeKeys.map(k => probes.get(k)?.source ?? k))
    if (sources.length < p.OUTAGE_MIN_SOURCES) continue
    const closedAll = c.phases.every(ph => ph.closedAt !== null)
    episodes.push({
      kind: 'outage',
      start: c.start,
      end: closedAll ? c.last : null,
      last: c.last,
      asns: uniq(hit.map(r => r.asn)),
      regions: uniq(hit.map(r => r.region).filter(x => x !== '')),
      blocking_type: null,
      measurement_count: inWindow.reduce((s, r) => s + r.n, 0),
      anomaly_count: hit.reduce((s, r) => s + r.unreachable, 0),
      confirmed_count: 0,
      probe_count: probeKeys.length,
      source_count: sources.length,
      sample_uids: [],
      confidence: Math.min(0.9, 0.5 + 0.1 * sources.length),
      rule: 'outage',
      outlier: false,
      outlier_reason: null
    })
  }
  return episodes
}

/** A stored event, as far as matching needs it. */
export interface StoredEventRef {
  event_id: string
  start: number
  end: number | null
}

/**
 * Matches freshly detected episodes to the series' stored events, so that
 * an event keeps its event_id across recomputations and rescores: each
 * episode takes the stored event its interval overlaps most (intervals
 * widened by `slackMs`). Returns, per episode, the matched event_id or null.
 */
export function matchEvents(episodes: Episode[], stored: StoredEventRef[], slackMs = DETECT.MERGE_GAP_MS): Array<string | null> {
  const inf = Number.MAX_SAFE_INTEGER
  const pairs: Array<{ i: number; j: number; overlap: number }> = []
  episodes.forEach((e, i) => {
    stored.forEach((s, j) => {
      const lo = Math.max(e.start, s.start) - slackMs
      const hi = Math.min(e.end ?? inf, s.end ?? inf)
      if (hi >= lo) pairs.push({ i, j, overlap: hi - lo })
    })
  })
  pairs.sort((a, b) => b.overlap - a.overlap)
  const out: Array<string | null> = episodes.map(() => null)
  const used = new Set<number>()
  for (const { i, j } of pairs) {
    if (out[i] !== null || used.has(j)) continue
    out[i] = stored[j].event_id
    used.add(j)
  }
  return out
}
