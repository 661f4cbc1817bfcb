/**
 * The event-edges scenario of issue 13: six probes in three networks of one
 * country measure a list of targets hourly, each at its own minute, for a
 * week; blocking episodes with known true start and end (national ones,
 * ones in one or two networks), flaps inside them, 2% false positives
 * outside them, and two stretches uploaded late. Pure and seeded: the same
 * seed gives the same measurements and truth.
 *
 * The measurements are replayed in upload order into per-series rows per
 * probe and hour, as loadSeriesRows (aggregator/src/timeline/store.ts)
 * computes them from measurements, and scoreEdges() compares the
 * detector's episodes with the truth. Used by test/timeline/edges.test.ts
 * and by `npm run bench -- edges` (scripts/bench/edges.ts); the method is in
 * docs/methodology.md ("Timelines, states and events").
 */
import { rng } from '../../aggregator/src/simulate/generate.ts'
import type { Episode, ProbeHourRow, ProbeInfo } from '../../aggregator/src/timeline/detect.ts'

const MIN = 60_000
const H = 60 * MIN

/** One simulated measurement, with the flags scoring would give it. */
export interface EdgeMeasurement {
  /** Measurement time and upload time, epoch milliseconds. */
  t: number
  upload: number
  probe: string
  asn: string
  region: string
  domain: string
  uid: string
  anomaly: boolean
  confirmed: boolean
  /** Whether the target was blocked for this probe (false for a false positive). */
  blocked: boolean
  blocking_type: string | null
}

/** A scripted blocking episode: the truth the detector should find. */
export interface TruthEpisode {
  name: string
  domain: string
  asns: string[]
  /** True onset and end, epoch milliseconds. */
  start: number
  end: number
  /** Unblocked gaps inside it (flaps), [from, to) in epoch milliseconds. */
  flaps: Array<[number, number]>
  /** Whether the censor serves a blockpage that fingerprints confirm. */
  confirmed: boolean
}

/** A generated scenario. */
export interface EdgeScenario {
  seed: number
  startMs: number
  endMs: number
  /** Probe → the detector's view of it (first measurement; each probe is its own source). */
  probes: Map<string, ProbeInfo>
  /** Probe → its network and its minute past the hour. */
  probeNets: Map<string, { asn: string; region: string; minute: number }>
  domains: string[]
  measurements: EdgeMeasurement[]
  truth: TruthEpisode[]
  /** The late-upload stretches: probe, measured from–to, uploaded how many hours late. */
  late: Array<{ probe: string; from: number; to: number; delayHours: number }>
}

/** The scenario's shape; the times and flaps within it are drawn from the seed. */
export const EDGE_SCENARIO = Object.freeze({
  cc: 'IR',
  days: 7,
  fpRate: 0.02,
  networks: [
    { asn: 'AS197207', region: 'IR-23', probes: ['a1', 'a2'] },
    { asn: 'AS44244', region: 'IR-07', probes: ['b1', 'b2'] },
    { asn: 'AS58224', region: 'IR-10', probes: ['c1', 'c2'] }
  ],
  /** Stretches of one probe's measurements uploaded late: hours from the start, delay in hours. */
  late: [
    { probe: 'b2', fromHour: 40, toHour: 64, delayHours: 30 },
    { probe: 'c1', fromHour: 98, toHour: 110, delayHours: 20 }
  ],
  /** Domains with no episode: false positives only. */
  quiet: ['twitter.com', 'www.bbc.com'],
  /**
   * Episodes: domain, networks (null: all), onset hour (a random minute is
   * added), length in hours, whether a blockpage confirms it. Episodes of
   * ten hours or more get one to three flaps of one to three hours, at
   * least two hours from either edge.
   */
  episodes: [
    { name: 'national, flapping', domain: 'www.facebook.com', asns: null, hour: 14, hours: 30, confirmed: false },
    { name: 'national, again', domain: 'www.facebook.com', asns: null, hour: 100, hours: 20, confirmed: false },
    { name: 'national, short', domain: 'www.instagram.com', asns: null, hour: 40, hours: 5, confirmed: false },
    { name: 'national blockpage', domain: 'www.youtube.com', asns: null, hour: 60, hours: 48, confirmed: true },
    { name: 'two networks', domain: 'web.telegram.org', asns: ['AS197207', 'AS44244'], hour: 30, hours: 16, confirmed: false },
    { name: 'two networks, late upload', domain: 'signal.org', asns: ['AS44244', 'AS58224'], hour: 44, hours: 12, confirmed: false },
    { name: 'one network, blockpage', domain: 'www.dw.com', asns: ['AS58224'], hour: 20, hours: 9, confirmed: true },
    { name: 'one network, established probes', domain: 'www.rferl.org', asns: ['AS197207'], hour: 90, hours: 14, confirmed: false }
  ]
} as const)

const pad = (n: number, w: number): string => String(n).padStart(w, '0')

/**
 * Generates the scenario. Each probe measures every domain once an hour at
 * its own minute past the hour (drawn from the seed), a few seconds apart,
 * with up to two minutes of jitter; its first measurement is at the start,
 * so after three days its sources are established (the "history" rule).
 */
export function edgeScenario(seed = 13, startMs = Date.parse('2026-03-02T00:00:00Z')): EdgeScenario {
  const sc = EDGE_SCENARIO
  const random = rng(seed)
  const endMs = startMs + sc.days * 24 * H
  const probes = new Map<string, ProbeInfo>()
  const probeNets = new Map<string, { asn: string; region: string; minute: number }>()
  for (const n of sc.networks) {
    for (const p of n.probes) {
      probeNets.set(p, { asn: n.asn, region: n.region, minute: Math.floor(random() * 60) })
      probes.set(p, { first_seen: startMs, source: p })
    }
  }
  const truth: TruthEpisode[] = sc.episodes.map(e => {
    const start = startMs + e.hour * H + Math.floor(random() * 60) * MIN
    const end = start + e.hours * H + Math.floor(random() * 60 - 30) * MIN
    const flaps: Array<[number, number]> = []
    if (e.hours >= 10) {
      // One flap per slot of the episode's inner part (two hours from
      // either edge) of at least five hours, each followed by at least two
      // hours of blocking: flaps are short gaps, not most of the episode.
      const inner = end - start - 4 * H
      const count = Math.min(1 + Math.floor(random() * 3), Math.floor(inner / (5 * H)))
      const slot = inner / count
      for (let i = 0; i < count; i++) {
        const len = Math.min(H + Math.floor(random() * 120) * MIN, slot - 2 * H)
        const from = start + 2 * H + i * slot + Math.floor(random() * (slot - len - 2 * H))
        flaps.push([from, from + len])
      }
    }
    const asns = e.asns === null ? sc.networks.map(n => n.asn) : [...e.asns]
    return { name: e.name, domain: e.domain, asns: asns.sort(), start, end, flaps, confirmed: e.confirmed }
  })
  const domains = [...new Set([...sc.episodes.map(e => e.domain), ...sc.quiet])]
  const late = sc.late.map(l => ({ probe: l.probe, from: startMs + l.fromHour * H, to: startMs + l.toHour * H, delayHours: l.delayHours }))
  const blockedBy = (_probe: string, asn: string, domain: string, t: number): TruthEpisode | undefined =>
    truth.find(e => e.domain === domain && e.asns.includes(asn) && t >= e.start && t < e.end && !e.flaps.some(([a, b]) => t >= a && t < b))
  const measurements: EdgeMeasurement[] = []
  for (const [probe, net] of probeNets) {
    for (let hour = startMs; hour < endMs; hour += H) {
      const jitter = Math.floor(random() * 120_000)
      domains.forEach((domain, i) => {
        const t = hour + net.minute * MIN + jitter + i * 5000
        if (t >= endMs) return
        const e = blockedBy(probe, net.asn, domain, t)
        const fp = e === undefined && random() < sc.fpRate
        const stretch = late.find(l => l.probe === probe && t >= l.from && t < l.to)
        const upload = stretch !== undefined ? t + stretch.delayHours * H : t + MIN + Math.floor(random() * 9 * MIN)
        measurements.push({
          t,
          upload,
          probe,
          asn: net.asn,
          region: net.region,
          domain,
          uid: `${pad(t, 14)}-${probe}-${domain}`,
          anomaly: e !== undefined || fp,
          confirmed: e?.confirmed === true,
          blocked: e !== undefined,
          blocking_type: e !== undefined ? (e.confirmed ? 'dns' : 'tcp_ip') : fp ? 'http-failure' : null
        })
      })
    }
  }
  measurements.sort((a, b) => a.upload - b.upload || a.t - b.t)
  return { seed, startMs, endMs, probes, probeNets, domains, measurements, truth, late }
}

const hourOf = (t: number): number => Math.floor(t / H) * H

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b)
}
function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b)
}

/** One batch's aggregate for one row key (PROBE_HOUR_SELECT in store.ts). */
function stageRow(ms: EdgeMeasurement[]): ProbeHourRow {
  const m0 = ms[0]!
  const anomalous = ms.filter(m => m.anomaly || m.confirmed)
  const times = anomalous.map(m => m.t)
  const okTimes = ms.filter(m => !m.anomaly && !m.confirmed).map(m => m.t)
  const types = anomalous
    .map(m => m.blocking_type)
    .filter((x): x is string => x !== null)
    .sort()
  const samples = anomalous.map(m => (m.confirmed ? '1' : '0') + m.uid).sort()
  return {
    hour: hourOf(m0.t),
    asn: m0.asn,
    region: m0.region,
    probe: m0.probe,
    n: ms.length,
    ok: ms.filter(m => !m.anomaly && !m.confirmed).length,
    anomaly: ms.filter(m => m.anomaly && !m.confirmed).length,
    confirmed: ms.filter(m => m.confirmed).length,
    failure: 0,
    down: 0,
    unreachable: 0,
    first_anomaly: times.length > 0 ? Math.min(...times) : null,
    last_anomaly: times.length > 0 ? Math.max(...times) : null,
    first_unreachable: null,
    last_unreachable: null,
    first_ok: okTimes.length > 0 ? Math.min(...okTimes) : null,
    last_ok: okTimes.length > 0 ? Math.max(...okTimes) : null,
    sample_uid: samples.length > 0 ? samples[samples.length - 1]! : null,
    blocking_type: types.length > 0 ? types[types.length - 1]! : null
  }
}

/**
 * Replays measurements in upload order, one batch per upload hour, into
 * each series' rows: a batch is aggregated per hour × network × probe,
 * then merged into the existing row (counts added, first/last anomaly and
 * ok by least/greatest, the greatest sample uid, the batch's blocking type
 * over the stored one), so that a row is the same whatever the order the
 * measurements came in. Returns the rows of
 * each domain (this scenario has one country and one test name).
 */
export function replayRows(measurements: EdgeMeasurement[]): Map<string, ProbeHourRow[]> {
  const rows = new Map<string, Map<string, ProbeHourRow>>()
  const batches = new Map<number, EdgeMeasurement[]>()
  for (const m of measurements) {
    const b = batches.get(hourOf(m.upload))
    if (b === undefined) batches.set(hourOf(m.upload), [m])
    else b.push(m)
  }
  for (const [, batch] of [...batches].sort((a, b) => a[0] - b[0])) {
    const staged = new Map<string, EdgeMeasurement[]>()
    for (const m of batch) {
      const key = `${m.domain}|${hourOf(m.t)}|${m.asn}|${m.region}|${m.probe}`
      const list = staged.get(key)
      if (list === undefined) staged.set(key, [m])
      else list.push(m)
    }
    for (const [key, ms] of staged) {
      const domain = ms[0]!.domain
      let series = rows.get(domain)
      if (series === undefined) {
        series = new Map()
        rows.set(domain, series)
      }
      const add = stageRow(ms)
      const r = series.get(key)
      if (r === undefined) {
        series.set(key, add)
        continue
      }
      r.n += add.n
      r.ok += add.ok
      r.anomaly += add.anomaly
      r.confirmed += add.confirmed
      r.first_anomaly = minOf(r.first_anomaly, add.first_anomaly)
      r.last_anomaly = maxOf(r.last_anomaly, add.last_anomaly)
      r.first_ok = minOf(r.first_ok ?? null, add.first_ok ?? null)
      r.last_ok = maxOf(r.last_ok ?? null, add.last_ok ?? null)
      if (add.sample_uid !== null && (r.sample_uid === null || add.sample_uid > r.sample_uid)) r.sample_uid = add.sample_uid
      r.blocking_type = add.blocking_type ?? r.blocking_type
    }
  }
  const out = new Map<string, ProbeHourRow[]>()
  for (const [domain, series] of rows)
    out.set(
      domain,
      [...series.values()].sort((a, b) => a.hour - b.hour || a.probe.localeCompare(b.probe))
    )
  return out
}

/** One edge (start or end) of a truth episode against what was detected. */
export interface EdgeError {
  episode: string
  edge: 'start' | 'end'
  truth: number
  detected: number | null
  /** |detected − truth|, ms; null when the edge was not detected (a missed episode, or an end still open). */
  errorMs: number | null
  /**
   * What the sampling allows: the distance from the truth to the nearest
   * blocked measurement inside the episode (the first after the start, the
   * last before the end), ms.
   */
  samplingMs: number
  /**
   * What the sampling allows an edge reported between measurements: the
   * distance from the truth to the midpoint between the nearest blocked
   * measurement inside the episode and the nearest measurement outside it
   * (the last before the start, the first after the end) of the episode's
   * networks, ms; samplingMs when there is none outside.
   */
  bracketMs: number
}

/** The detector's episodes scored against the truth. */
export interface EdgeScore {
  edges: EdgeError[]
  /** The largest edge error, ms (over detected edges). */
  maxErrorMs: number
  /** The largest error the sampling allows, ms. */
  maxSamplingMs: number
  missed: string[]
  /** Detected episodes that match no truth episode: "domain start–end". */
  spurious: string[]
  /** Episodes whose detected networks differ from the truth's. */
  wrongNetworks: string[]
}

/**
 * Scores detected episodes (per domain) against the truth. A detected
 * episode matches the truth episode of its domain it overlaps most; each
 * truth episode takes at most one. Unmatched truth episodes are missed,
 * unmatched detected ones spurious.
 */
export function scoreEdges(sc: EdgeScenario, detected: Map<string, Episode[]>): EdgeScore {
  const edges: EdgeError[] = []
  const missed: string[] = []
  const spurious: string[] = []
  const wrongNetworks: string[] = []
  for (const domain of sc.domains) {
    const eps = detected.get(domain) ?? []
    const truths = sc.truth.filter(e => e.domain === domain)
    const used = new Set<number>()
    for (const tr of truths) {
      let best = -1
      let bestOverlap = 0
      eps.forEach((ep, i) => {
        const overlap = Math.min(ep.end ?? sc.endMs, tr.end) - Math.max(ep.start, tr.start)
        if (!used.has(i) && overlap > bestOverlap) {
          best = i
          bestOverlap = overlap
        }
      })
      const blocked = sc.measurements.filter(m => m.domain === domain && m.blocked && m.t >= tr.start && m.t < tr.end).map(m => m.t)
      const sampling = { start: Math.min(...blocked) - tr.start, end: tr.end - Math.max(...blocked) }
      const nets = sc.measurements.filter(m => m.domain === domain && tr.asns.includes(m.asn)).map(m => m.t)
      const before = Math.max(...nets.filter(t => t < tr.start))
      const after = Math.min(...nets.filter(t => t >= tr.end))
      const bracket = {
        start: Number.isFinite(before) ? Math.abs((before + Math.min(...blocked)) / 2 - tr.start) : sampling.start,
        end: Number.isFinite(after) ? Math.abs((after + Math.max(...blocked)) / 2 - tr.end) : sampling.end
      }
      if (best < 0) {
        missed.push(tr.name)
        edges.push({ episode: tr.name, edge: 'start', truth: tr.start, detected: null, errorMs: null, samplingMs: sampling.start, bracketMs: bracket.start })
        edges.push({ episode: tr.name, edge: 'end', truth: tr.end, detected: null, errorMs: null, samplingMs: sampling.end, bracketMs: bracket.end })
        continue
      }
      used.add(best)
      const ep = eps[best]!
      if (ep.asns.join(',') !== tr.asns.join(',')) wrongNetworks.push(`${tr.name}: ${ep.asns.join(',')} (truth ${tr.asns.join(',')})`)
      edges.push({ episode: tr.name, edge: 'start', truth: tr.start, detected: ep.start, errorMs: Math.abs(ep.start - tr.start), samplingMs: sampling.start, bracketMs: bracket.start })
      edges.push({ episode: tr.name, edge: 'end', truth: tr.end, detected: ep.end, errorMs: ep.end === null ? null : Math.abs(ep.end - tr.end), samplingMs: sampling.end, bracketMs: bracket.end })
    }
    eps.forEach((ep, i) => {
      if (!used.has(i)) spurious.push(`${domain} ${new Date(ep.start).toISOString()}–${ep.end === null ? 'ongoing' : new Date(ep.end).toISOString()}`)
    })
  }
  const errors = edges.map(e => e.errorMs).filter((x): x is number => x !== null)
  return {
    edges,
    maxErrorMs: errors.length > 0 ? Math.max(...errors) : 0,
    maxSamplingMs: Math.max(...edges.map(e => e.samplingMs)),
    missed,
    spurious,
    wrongNetworks
  }
}

/** The detector's signature (detectBlocking of aggregator/src/timeline/detect.ts). */
export type DetectBlocking = (rows: ProbeHourRow[], probes: ReadonlyMap<string, ProbeInfo>) => Episode[]

/** Runs a detector over every series of the scenario, with everything uploaded, and scores it. */
export function runEdges(sc: EdgeScenario, detect: DetectBlocking): EdgeScore {
  const detected = new Map<string, Episode[]>()
  for (const [domain, rows] of replayRows(sc.measurements)) detected.set(domain, detect(rows, sc.probes))
  return scoreEdges(sc, detected)
}
