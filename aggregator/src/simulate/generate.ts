/**
 * The scenario generator: scenario → probes, a plan of measurements (when
 * each is made, when it is uploaded, what the probe saw) and the truth the
 * detector should find. Pure and seeded: the same scenario and start give
 * the same plan. Documents are built from plan items by docs.ts, at upload
 * time, so that a plan of millions stays small.
 */
import type { SimOutcome } from '../../../shared/src/nettests/kind.ts'
import { domainOf } from '../../../shared/src/target.ts'
import type { Scenario, Technique } from './scenario.ts'

/** A seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** One simulated probe. */
export interface SimProbe {
  index: number
  cc: string
  asn: string
  network_name: string
  region: string | null
  /** Its index among its network's probes. */
  rank: number
}

/** What a probe saw. */
export type Outcome = SimOutcome

/** One planned measurement. */
export interface PlanItem {
  probe: number
  target: number
  /** Measurement time and upload time, epoch milliseconds. */
  t: number
  upload: number
  outcome: Outcome
}

/** An episode as the detector should report it. */
export interface TruthEpisode {
  name: string
  kind: 'blocking' | 'outage'
  cc: string
  asns: string[]
  domain: string | null
  test_name: string | null
  technique: Technique | null
  /** Scripted onset and the end of the last "on" period, epoch milliseconds. */
  start: number
  end: number
  /** Probes that see it. */
  probes: number
  /** Whether a fingerprint confirms it (dns_blockpage, http_blockpage with a known page). */
  confirmed: boolean
}

/** A generated scenario. */
export interface Plan {
  startMs: number
  endMs: number
  probes: SimProbe[]
  items: PlanItem[]
  truth: TruthEpisode[]
}

/** National DNS blockpage addresses, as OONI's fingerprints list them. */
export const NATIONAL_BLOCKPAGE_IPS: Readonly<Record<string, string>> = Object.freeze({
  IR: '10.10.34.36',
  TR: '195.175.254.2',
  RU: '193.58.251.1',
  ID: '36.86.63.185',
  CN: '8.7.198.45'
})

const H = 3600_000
const MIN = 60_000

function inAsns(asns: string[] | 'all' | undefined, asn: string): boolean {
  return asns === undefined || asns === 'all' || asns.includes(asn)
}

function selected(share: number | undefined, rank: number, count: number): boolean {
  return rank < Math.max(1, Math.ceil((share ?? 1) * count))
}

function isOn(e: NonNullable<Scenario['episodes']>[number], startMs: number, t: number): boolean {
  const s = startMs + e.start_hour * H
  const end = startMs + e.end_hour * H
  if (t < s || t >= end) return false
  if (e.flapping === undefined) return true
  const cycle = (e.flapping.on_minutes + e.flapping.off_minutes) * MIN
  return (t - s) % cycle < e.flapping.on_minutes * MIN
}

function lastOnEnd(e: NonNullable<Scenario['episodes']>[number], startMs: number): number {
  const s = startMs + e.start_hour * H
  const end = startMs + e.end_hour * H
  if (e.flapping === undefined) return end
  const cycle = (e.flapping.on_minutes + e.flapping.off_minutes) * MIN
  const lastCycle = s + Math.floor((end - s - 1) / cycle) * cycle
  return Math.min(end, lastCycle + e.flapping.on_minutes * MIN)
}

/**
 * Generates the plan. `probesPerNetwork`, when set, overrides every
 * network's probe count (the tests run one scenario at 1 and at 50).
 */
export function generate(s: Scenario, startMs: number, opts: { probesPerNetwork?: number } = {}): Plan {
  const random = rng(s.seed ?? 1)
  const interval = (s.interval_minutes ?? 30) * MIN
  const fpRate = s.background_fp_rate ?? 0.02
  const endMs = startMs + s.duration_hours * H
  const probes: SimProbe[] = []
  const netSize = new Map<string, number>()
  for (const c of s.countries) {
    for (const n of c.networks) {
      const count = opts.probesPerNetwork ?? n.probes
      netSize.set(`${c.cc}/${n.asn}`, count)
      for (let r = 0; r < count; r++) {
        const regions = n.regions ?? []
        probes.push({ index: probes.length, cc: c.cc, asn: n.asn, network_name: n.name ?? n.asn, region: regions.length > 0 ? regions[r % regions.length] : null, rank: r })
      }
    }
  }
  const items: PlanItem[] = []
  const episodes = s.episodes ?? []
  const outages = s.outages ?? []
  const delays = s.upload_delays ?? []
  for (const p of probes) {
    const size = netSize.get(`${p.cc}/${p.asn}`)!
    for (let ti = 0; ti < s.targets.length; ti++) {
      const input = s.targets[ti].input
      const offset = Math.floor(random() * interval)
      for (let t = startMs + offset; t < endMs; t += interval) {
        let outcome: Outcome = { kind: 'ok' }
        let upload = t + MIN + Math.floor(random() * 9 * MIN)
        const outage = outages.find(o => o.cc === p.cc && inAsns(o.asns, p.asn) && t >= startMs + o.start_hour * H && t < startMs + o.end_hour * H)
        if (outage !== undefined) {
          outcome = { kind: 'outage' }
          // The outbox uploads once the network is back.
          upload = startMs + (outage.end_hour + (outage.upload_after_hours ?? 0.5)) * H + Math.floor(random() * 30 * MIN)
        } else {
          const e = episodes.find(e => e.cc === p.cc && inAsns(e.asns, p.asn) && e.targets.includes(input) && selected(e.probe_share, p.rank, size) && isOn(e, startMs, t))
          if (e !== undefined) {
            outcome = { kind: 'blocked', technique: e.technique }
            const ip = e.blockpage_ip ?? NATIONAL_BLOCKPAGE_IPS[p.cc]
            if (e.technique === 'dns_blockpage' && ip !== undefined) outcome.blockpage_ip = ip
          } else if (random() < fpRate) {
            outcome = { kind: 'fp' }
          }
        }
        const d = delays.find(d => d.cc === p.cc && inAsns(d.asns, p.asn) && selected(d.probe_share, p.rank, size) && t >= startMs + d.from_hour * H && t < startMs + d.to_hour * H)
        if (d !== undefined && outcome.kind !== 'outage') upload = t + d.delay_hours * H + Math.floor(random() * 10 * MIN)
        items.push({ probe: p.index, target: ti, t, upload, outcome })
      }
    }
  }
  items.sort((a, b) => a.upload - b.upload || a.t - b.t || a.probe - b.probe)

  const truth: TruthEpisode[] = []
  episodes.forEach((e, i) => {
    const nets = s.countries.find(c => c.cc === e.cc)!.networks.filter(n => inAsns(e.asns, n.asn))
    const seeing = nets.reduce((sum, n) => sum + Math.max(1, Math.ceil((e.probe_share ?? 1) * (opts.probesPerNetwork ?? n.probes))), 0)
    for (const input of e.targets) {
      truth.push({
        name: e.name ?? `episode ${i + 1}`,
        kind: 'blocking',
        cc: e.cc,
        asns: nets.map(n => n.asn).sort(),
        domain: domainOf(input),
        test_name: 'web_connectivity',
        technique: e.technique,
        start: startMs + e.start_hour * H,
        end: lastOnEnd(e, startMs),
        probes: seeing,
        confirmed: e.technique === 'dns_blockpage' ? (e.blockpage_ip ?? NATIONAL_BLOCKPAGE_IPS[e.cc]) !== undefined : e.technique === 'http_blockpage' && e.cc === 'IR'
      })
    }
  })
  outages.forEach((o, i) => {
    const nets = s.countries.find(c => c.cc === o.cc)!.networks.filter(n => inAsns(o.asns, n.asn))
    truth.push({
      name: `outage ${i + 1}`,
      kind: 'outage',
      cc: o.cc,
      asns: nets.map(n => n.asn).sort(),
      domain: null,
      test_name: null,
      technique: null,
      start: startMs + o.start_hour * H,
      end: startMs + o.end_hour * H,
      probes: nets.reduce((sum, n) => sum + (opts.probesPerNetwork ?? n.probes), 0),
      confirmed: false
    })
  })
  return { startMs, endMs, probes, items, truth }
}
