/**
 * Event edges (issue 13): the replayed scenario of scripts/bench/edges-scenario.ts
 * (six probes in three networks measuring hourly, flaps, 2% false
 * positives, late uploads) through the pure detector. Every episode is
 * found once, with its networks, nothing else is reported, and every start
 * and end is within 20 minutes of the truth, or within what the sampling
 * allows when the measurements around it are further apart: an edge
 * reported halfway between the last ok and the first anomalous measurement
 * (docs/methodology.md) is at most half their gap off. `npm run bench --
 * edges` reports the same over 30 seeds.
 */
import t from 'tap'
import { detectBlocking } from '../../aggregator/src/timeline/detect.ts'
import { edgeScenario, replayRows, runEdges } from '../../scripts/bench/edges-scenario.ts'

const MIN = 60_000
const fmt = (ms: number | null): string => (ms === null ? 'none' : new Date(ms).toISOString().slice(5, 16))

t.test('the scenario is what the issue describes', async t => {
  const sc = edgeScenario()
  t.equal(sc.probeNets.size, 6, 'six probes')
  t.equal(new Set([...sc.probeNets.values()].map(p => p.asn)).size, 3, 'in three networks')
  t.ok(sc.truth.some(e => e.asns.length === 3) && sc.truth.some(e => e.asns.length < 3), 'national episodes and episodes in one or two networks')
  t.ok(
    sc.truth.some(e => e.flaps.length > 0),
    'flaps'
  )
  const outside = sc.measurements.filter(m => !m.blocked)
  const fp = outside.filter(m => m.anomaly).length / outside.length
  t.ok(fp > 0.01 && fp < 0.03, `about 2% false positives outside the episodes (${(fp * 100).toFixed(1)}%)`)
  t.ok(
    sc.measurements.some(m => m.upload - m.t > 12 * 3600_000),
    'late uploads'
  )
  t.same(replayRows([...sc.measurements].reverse()), replayRows(sc.measurements), 'the rows do not depend on the upload order')
})

t.test('every episode found, with its start and end within 20 minutes or the sampling limit', async t => {
  const sc = edgeScenario()
  const s = runEdges(sc, detectBlocking)
  t.same(s.missed, [], 'nothing missed')
  t.same(s.spurious, [], 'nothing spurious')
  t.same(s.wrongNetworks, [], 'each with its networks')
  // Seed 13: two edges have gaps of about 55 minutes around them (one
  // network's two probes measure minutes apart), so no rule can promise
  // 20; the midpoint is within half the gap of each edge.
  t.ok(s.maxErrorMs <= 28 * MIN, `largest error ${(s.maxErrorMs / MIN).toFixed(1)} min ≤ 28`)
  for (const e of s.edges) {
    const allowed = Math.max(20 * MIN, e.bracketMs + MIN)
    t.ok(
      e.errorMs !== null && e.errorMs <= allowed,
      `${e.episode} ${e.edge}: ${fmt(e.detected)} vs truth ${fmt(e.truth)}, ${e.errorMs === null ? 'not found' : (e.errorMs / MIN).toFixed(1)} min off (allowed ${(allowed / MIN).toFixed(1)})`
    )
  }
})
