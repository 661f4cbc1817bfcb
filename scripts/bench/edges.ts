/**
 * Benchmark 6: event edges (issue 13). The replayed scenario of
 * edges-scenario.ts (six probes in three networks measuring hourly, flaps,
 * 2% false positives, late uploads) through the pure detector, today's and
 * the one before the edges were refined (detect.ts at BEFORE_COMMIT, read
 * from git), over SEEDS seeds: how far each detected start and end lies
 * from the truth, and how far the sampling alone puts the probes' first and
 * last blocked measurements. Accuracy, not speed: no timing.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { detectBlocking } from '../../aggregator/src/timeline/detect.ts'
import type { BenchContext, BenchResult } from './context.ts'
import { EDGE_SCENARIO, edgeScenario, runEdges, type DetectBlocking, type EdgeScenario, type EdgeScore } from './edges-scenario.ts'
import { REPO, median, nowMs } from './util.ts'

/** The last commit of aggregator/src/timeline/detect.ts before edgeTime(). */
export const BEFORE_COMMIT = '1298775'
/** The scenario's default seed (the test's), shown edge by edge. */
const MAIN_SEED = 13
const SEEDS = Array.from({ length: 30 }, (_, i) => i + 1)
const TARGET_MS = 20 * 60_000
const MIN = 60_000

const mins = (ms: number): string => (ms / MIN).toFixed(1)

/** Loads detectBlocking as it was at a commit (detect.ts imports nothing). */
async function detectorAt (commit: string): Promise<{ detect: DetectBlocking, cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-edges-'))
  const file = join(dir, 'detect.mts') // .mts: an ES module outside the repository's package.json
  writeFileSync(file, execFileSync('git', ['show', `${commit}:aggregator/src/timeline/detect.ts`], { cwd: REPO }))
  const mod = await import(pathToFileURL(file).href) as { detectBlocking: DetectBlocking }
  return { detect: mod.detectBlocking, cleanup: () => { rmSync(dir, { recursive: true, force: true }) } }
}

interface Summary {
  /** The largest edge error over every seed, ms. */
  max_ms: number
  /** The median over seeds of each seed's largest edge error, ms. */
  median_seed_max_ms: number
  /** The median error of an edge, ms. */
  median_edge_ms: number
  /** The largest error of the edges whose sampling limit is ≤ 20 min, ms. */
  max_sampling_ok_ms: number
  /** The largest error beyond the sampling limit, ms. */
  max_excess_ms: number
  /** Edges whose sampling limit is ≤ 20 min: how many, and how many of them are more than 20 min off. */
  sampling_ok_edges: number
  sampling_ok_over: number
  /** Edges more than a minute beyond the sampling limit, and how many of them sit on a false positive. */
  beyond_sampling: number
  beyond_sampling_on_fp: number
  missed: number
  spurious: number
  wrong_networks: number
}

function summarise (scenarios: EdgeScenario[], scores: EdgeScore[]): Summary {
  const edges = scores.flatMap(s => s.edges)
  const beyond = scores.flatMap((s, i) => {
    const sc = scenarios[i]!
    const fpTimes = new Set(sc.measurements.filter(m => m.anomaly && !m.blocked).map(m => `${m.domain} ${m.t}`))
    return s.edges.filter(e => e.errorMs !== null && e.errorMs - e.samplingMs > MIN)
      .map(e => fpTimes.has(`${sc.truth.find(x => x.name === e.episode)!.domain} ${e.detected!}`))
  })
  const errors = edges.map(e => e.errorMs).filter((x): x is number => x !== null)
  const found = edges.filter(e => e.errorMs !== null) as Array<typeof edges[number] & { errorMs: number }>
  return {
    max_ms: Math.max(...errors),
    median_seed_max_ms: median(scores.map(s => s.maxErrorMs)),
    median_edge_ms: median(errors),
    max_sampling_ok_ms: Math.max(0, ...found.filter(e => e.samplingMs <= TARGET_MS).map(e => e.errorMs)),
    max_excess_ms: Math.max(0, ...found.map(e => e.errorMs - e.samplingMs)),
    sampling_ok_edges: edges.filter(e => e.samplingMs <= TARGET_MS).length,
    sampling_ok_over: edges.filter(e => e.samplingMs <= TARGET_MS && (e.errorMs === null || e.errorMs > TARGET_MS)).length,
    beyond_sampling: beyond.length,
    beyond_sampling_on_fp: beyond.filter(x => x).length,
    missed: scores.reduce((n, s) => n + s.missed.length, 0),
    spurious: scores.reduce((n, s) => n + s.spurious.length, 0),
    wrong_networks: scores.reduce((n, s) => n + s.wrongNetworks.length, 0)
  }
}

/** Runs the benchmark. */
export async function runEdgesBench (ctx: BenchContext): Promise<BenchResult> {
  const t0 = nowMs()
  const old = await detectorAt(BEFORE_COMMIT)
  try {
    const scenarios = SEEDS.map(seed => edgeScenario(seed))
    ctx.log(`edges: ${SEEDS.length} seeds, before (${BEFORE_COMMIT}) and after`)
    const before = scenarios.map(sc => runEdges(sc, old.detect))
    const after = scenarios.map(sc => runEdges(sc, detectBlocking))
    const b = summarise(scenarios, before)
    const a = summarise(scenarios, after)
    const mainIndex = SEEDS.indexOf(MAIN_SEED)
    const mainBefore = before[mainIndex]!
    const mainAfter = after[mainIndex]!
    const worstSampling = mainAfter.edges.reduce((x, y) => y.samplingMs > x.samplingMs ? y : x)
    const samplingMax = Math.max(...after.map(s => s.maxSamplingMs))
    const samplingMedian = median(after.map(s => s.maxSamplingMs))
    const sc = EDGE_SCENARIO
    const fmtTime = (ms: number | null): string => ms === null ? '—' : new Date(ms).toISOString().slice(5, 16).replace('T', ' ')
    const rows = mainAfter.edges.map((e, i) => {
      const old = mainBefore.edges[i]!
      return `| ${e.episode} | ${e.edge} | ${fmtTime(e.truth)} | ${old.errorMs === null ? 'missed' : mins(old.errorMs)} | ${e.errorMs === null ? 'missed' : mins(e.errorMs)} | ${mins(e.samplingMs)} |`
    })
    const line = (what: string, f: (s: Summary) => string): string => `| ${what} | ${f(b)} | ${f(a)} |`
    const markdown = [
      `**Scenario** (scripts/bench/edges-scenario.ts, replayed through the pure detector, aggregator/src/timeline/detect.ts): one country, ${sc.networks.length} networks with ${sc.networks.map(n => n.probes.length).join(' + ')} probes; each probe measures ${sc.episodes.length > 0 ? new Set([...sc.episodes.map(e => e.domain), ...sc.quiet]).size : 0} domains once an hour at its own minute past the hour (drawn from the seed, up to 2 minutes of jitter) for ${sc.days} days. ${sc.episodes.length} blocking episodes with a known true start and end at a random minute: national ones, ones in two networks and in one (one confirmed by a blockpage, one seen only by two probes with three days of history); episodes of ten hours or more flap (one to three unblocked gaps of one to three hours); ${sc.fpRate * 100}% false positives on every measurement outside them; ${sc.late.length} stretches of one probe's measurements uploaded late (${sc.late.map(l => `${l.toHour - l.fromHour} h of ${l.probe}'s, ${l.delayHours} h late`).join('; ')}). The measurements are replayed in upload order into tl_probe_hour rows as the rollup trigger builds them, and each series goes through detectBlocking. ${SEEDS.length} seeds (1–${SEEDS.length}); seed ${MAIN_SEED}, the test's (test/timeline/edges.test.ts), edge by edge below.`,
      '',
      `**Before** is detect.ts at ${BEFORE_COMMIT}, read from git (onset and end from the first and last hours where anomalies outnumber ok measurements); **after** is today's (edgeTime(): the probes' own first and last anomalous measurements around those hours, passing over false positives that precede another probe's ok measurement; docs/methodology.md, "Timelines, states and events").`,
      '',
      `**What the sampling allows.** An observer who knew which measurements were blocked would put the start at the first blocked measurement and the end at the last: with six probes at random minutes, that is already ${mins(samplingMedian)} min off the truth at some edge of a seed (median over seeds; up to ${mins(samplingMax)} min): an episode in one network is sampled by its two probes only. The "sampling" column is that distance for each edge.`,
      '',
      `| over ${SEEDS.length} seeds | before | after |`,
      '|---|---:|---:|',
      line('largest error of any start or end (min)', s => mins(s.max_ms)),
      line('median over seeds of the largest error (min)', s => mins(s.median_seed_max_ms)),
      line('median error of an edge (min)', s => mins(s.median_edge_ms)),
      line('largest error where the sampling allows ≤ 20 min (min)', s => mins(s.max_sampling_ok_ms)),
      line('edges more than 20 min off where the sampling allows ≤ 20 min', s => `${s.sampling_ok_over} of ${s.sampling_ok_edges}`),
      line('largest error beyond the sampling (min)', s => mins(s.max_excess_ms)),
      line('edges more than a minute beyond the sampling: all / on a false positive', s => `${s.beyond_sampling} / ${s.beyond_sampling_on_fp}`),
      line('missed / spurious episodes', s => `${s.missed} / ${s.spurious}`),
      line('episodes with the wrong networks', s => String(s.wrong_networks)),
      '',
      `Seed ${MAIN_SEED}, edge by edge (error in minutes):`,
      '',
      '| episode | edge | truth (UTC) | before | after | sampling |',
      '|---|---|---|---:|---:|---:|',
      ...rows,
      '',
      `**Why the targets are missed, and what next.** After the change, ${a.beyond_sampling_on_fp} of the ${a.beyond_sampling} edges more than a minute beyond the sampling sit on a false positive next to the edge with no other probe of the episode's networks measuring between it and the block: nothing in the data contradicts it. The rest of the error is the sampling itself: at seed ${MAIN_SEED} the worst edge (${worstSampling.episode}, ${worstSampling.edge}) is ${mins(worstSampling.samplingMs)} min from the probes' nearest blocked measurement, so no edge taken from first and last anomalous measurements can be within 20 minutes. Next: keep the time of the last ok measurement before and the first ok after anomalies in the rollup (first_ok / last_ok per tl_probe_hour row, as first_anomaly / last_anomaly are kept), so that the bounds above are measured instead of estimated from a probe's interval; reporting the edge as the midpoint between the last ok and the first anomalous measurement would then halve the sampling error, at the price of an edge that is no measurement's time. More probes per network, or measuring more often than hourly, narrow the sampling itself.`
    ].join('\n')
    const met = mainAfter.maxErrorMs <= TARGET_MS
    return {
      name: 'edges',
      at: new Date().toISOString(),
      scale: ctx.scale,
      seconds: (nowMs() - t0) / 1000,
      data: {
        seeds: `${SEEDS[0]}–${SEEDS[SEEDS.length - 1]}`,
        main_seed: MAIN_SEED,
        before_commit: BEFORE_COMMIT,
        before: b,
        after: a,
        sampling_max_ms: samplingMax,
        sampling_median_seed_max_ms: samplingMedian,
        targets: [
          {
            what: `event edges: largest error of any start or end vs the truth (seed ${MAIN_SEED}, six probes, three networks, hourly, flaps, 2% false positives)`,
            target: '≤ 20 min',
            measured: `${mins(mainAfter.maxErrorMs)} min (before ${mins(mainBefore.maxErrorMs)}); the sampling alone ${mins(worstSampling.samplingMs)} min (${worstSampling.episode}, ${worstSampling.edge})`,
            met
          },
          {
            what: `event edges where the sampling allows ≤ 20 min, over ${SEEDS.length} seeds`,
            target: '≤ 20 min',
            measured: `${mins(a.max_sampling_ok_ms)} min (before ${mins(b.max_sampling_ok_ms)}): ${a.sampling_ok_over} of ${a.sampling_ok_edges} edges over 20 min (before ${b.sampling_ok_over}); ${a.beyond_sampling_on_fp} of the ${a.beyond_sampling} edges beyond the sampling sit on a false positive next to the edge; median edge ${mins(a.median_edge_ms)} min (before ${mins(b.median_edge_ms)})`,
            met: a.max_sampling_ok_ms <= TARGET_MS
          },
          {
            what: `event edges: missed and spurious episodes over ${SEEDS.length} seeds`,
            target: 'none',
            measured: `${a.missed} missed, ${a.spurious} spurious (before ${b.missed}, ${b.spurious})`,
            met: a.missed === 0 && a.spurious === 0
          }
        ]
      },
      markdown
    }
  } finally {
    old.cleanup()
  }
}
