/**
 * The rollups answer every question they take exactly as the raw
 * measurements do (issue 13): randomised data through the real ingest path
 * (several countries, networks, subdivisions and probes, late and duplicate
 * uploads), then a rescore that flips verdicts both ways and a delete, and
 * after each step every timeline (hour, day, week, month; by country,
 * network and subdivision; with filters) and every aggregation the rollups
 * answer is compared with the same question asked of measurements.
 */
import t, { type Test } from 'tap'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { aggregate, type AggregationAxis, type AggregationGrain } from '../../aggregator/src/store/aggregation.ts'
import { parseFilters } from '../../aggregator/src/query/filters.ts'
import { updateScores } from '../../aggregator/src/store/measurements.ts'
import { queryTimeline, queryTimelineRaw, type TimelineQuery } from '../../aggregator/src/timeline/store.ts'
import { rng } from '../../aggregator/src/simulate/generate.ts'
import type { Technique } from '../../aggregator/src/simulate/scenario.ts'
import type { Queryable } from '../../aggregator/src/store/db.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { ooniFingerprints, webKeys } from '../helpers/aggregator-app.ts'

const H = 3600_000
const START = Date.UTC(2026, 2, 27, 5) // a Friday: weeks and months are split
const SPAN = 40 * 24 * H
const TECHNIQUES: Technique[] = ['dns', 'tcp_ip', 'tls', 'http-failure', 'http_blockpage', 'dns_blockpage', 'down']

function documents(seed: number, n: number): Array<Record<string, unknown>> {
  const r = rng(seed)
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]
  const probes = Array.from({ length: 14 }, (_, i) => ({
    id: i % 5 === 4 ? null : `p${i}`, // some documents have no probe_id (imports): their report counts as the probe
    cc: ['IR', 'RU', 'CN'][i % 3],
    asn: `AS${100 + (i % 4)}`,
    region: i % 3 === 0 ? null : `X-${i % 2}`
  }))
  const domains = ['a.example', 'b.example', 'c.example']
  return Array.from({ length: n }, (_, i) => {
    const p = pick(probes)
    const input = `https://${pick(domains)}/`
    const outcome = r()
    const technique = outcome < 0.55 ? undefined : pick(TECHNIQUES)
    const doc: Record<string, unknown> = {
      data_format_version: '0.2.0',
      measurement_uid: `prop-${seed}-${i}`,
      measurement_start_time: formatOoniTime(START + Math.floor(r() * SPAN)),
      probe_cc: p.cc,
      probe_asn: p.asn,
      ...(p.region !== null ? { probe_region: `${p.cc}-${p.region.slice(2)}` } : {}),
      ...(p.id !== null ? { probe_id: p.id } : {}),
      report_id: `rep-${p.cc}-${p.asn}-${i % 7}`,
      input,
      test_name: r() < 0.85 ? 'web_connectivity' : 'signal',
      software_name: 'ooniprobe-cli',
      software_version: '3.20.0',
      annotations: {},
      test_keys: webKeys(input, technique)
    }
    if (doc.test_name === 'signal') doc.test_keys = { signal_backend_status: r() < 0.5 ? 'ok' : 'blocked', failed_operation: null, failure: null }
    if (outcome > 0.97) doc.test_keys = { ...(doc.test_keys as object), control_failure: 'generic_timeout_error', dns_experiment_failure: 'generic_timeout_error' }
    return doc
  })
}

const timelineQueries = (): TimelineQuery[] => {
  const out: TimelineQuery[] = []
  const since = new Date(START - 3 * 24 * H)
  const until = new Date(START + SPAN + 3 * 24 * H)
  for (const time_grain of ['hour', 'day', 'week', 'month'] as const) {
    for (const by of ['cc', 'asn', 'region'] as const) {
      out.push({ probe_cc: 'IR', since, until, time_grain, by })
      out.push({ probe_cc: 'RU', since: new Date(START + 5 * 24 * H + 7 * H), until: new Date(START + 20 * 24 * H), time_grain, by, domain: 'b.example' })
    }
    out.push({ probe_cc: 'IR', since, until, time_grain, by: 'cc', probe_asn: 'AS100' })
    out.push({ probe_cc: 'CN', since, until, time_grain, by: 'cc', probe_region: 'CN-1', test_name: 'web_connectivity' })
    out.push({ probe_cc: 'IR', since, until, time_grain, by: 'asn', probe_region: 'IR-0' }) // no rollup: raw either way
  }
  return out
}

const aggregations: Array<{ f: Record<string, string>; axes: AggregationAxis[]; grain: AggregationGrain }> = [
  { f: {}, axes: [], grain: 'day' },
  { f: { probe_cc: 'IR' }, axes: ['measurement_start_time', 'domain'], grain: 'day' },
  { f: { probe_cc: 'IR', since: '2026-03-28', until: '2026-04-10' }, axes: ['measurement_start_time'], grain: 'hour' },
  { f: { probe_cc: 'RU' }, axes: ['probe_asn', 'measurement_start_time'], grain: 'week' },
  { f: { probe_cc: 'CN', test_name: 'web_connectivity' }, axes: ['probe_region'], grain: 'month' },
  { f: { domain: 'a.example' }, axes: ['probe_cc', 'measurement_start_time'], grain: 'year' },
  { f: { probe_cc: 'IR', probe_asn: 'AS101' }, axes: ['test_name'], grain: 'day' }
]

async function compareAll(t: Test, q: Queryable, step: string): Promise<void> {
  let buckets = 0
  for (const f of timelineQueries()) {
    const rolled = await queryTimeline(q, f)
    const raw = await queryTimelineRaw(q, f)
    buckets += raw.length
    t.same(rolled, raw, `${step}: timeline ${JSON.stringify({ ...f, since: undefined, until: undefined })}`)
  }
  t.ok(buckets > 100, `${step}: the timelines hold data (${buckets} buckets)`)
  for (const a of aggregations) {
    const rolled = await aggregate(q, parseFilters(a.f), a.axes, a.grain)
    const raw = await aggregate(q, parseFilters(a.f), a.axes, a.grain, 'measurements')
    t.equal(rolled.source, 'rollup', `${step}: ${JSON.stringify(a)} is answered from the rollups`)
    t.same(rolled.rows, raw.rows, `${step}: aggregation ${JSON.stringify(a)}`)
  }
  // A period that does not start on an hour: the rollups cannot answer it exactly, so measurements do.
  const odd = await aggregate(q, parseFilters({ probe_cc: 'IR', since: '2026-03-28T10:30:00Z' }), ['domain'], 'day')
  t.equal(odd.source, 'measurements', `${step}: an unaligned period falls back to measurements`)
}

t.test(`rollups equal the raw measurements, through ingest, late and duplicate uploads, rescore and delete (${testDriver()})`, async t => {
  const tdb = await freshDb()
  t.teardown(tdb.close)
  const db = tdb.db
  const ctx = { fingerprints: { version: 'none', dns: new Map(), http: [] }, nowMs: START + SPAN + 24 * H }
  const docs = documents(5, 900)
  // Uploaded out of time order, in batches, some twice.
  const late = docs.filter((_, i) => i % 4 === 0)
  const first = docs.filter((_, i) => i % 4 !== 0)
  let accepted = 0
  for (let i = 0; i < first.length; i += 200)
    accepted += (
      await ingestBatch(
        db,
        first.slice(i, i + 200).map(doc => ({ doc })),
        ctx
      )
    ).accepted
  await compareAll(t, db, 'after ingest')
  const again = await ingestBatch(
    db,
    [...late, ...first.slice(0, 50)].map(doc => ({ doc })),
    ctx
  )
  accepted += again.accepted
  t.equal(again.duplicates, 50, 'duplicates are counted once')
  t.equal(accepted, docs.length)
  await compareAll(t, db, 'after late and duplicate uploads')

  // A rescore with OONI's fingerprints confirms the blockpages; then verdicts flipped both ways.
  const { rescoreAll } = await import('../../aggregator/src/commands/rescore.ts')
  const totals = await rescoreAll(db, await ooniFingerprints())
  t.ok(totals.changed > 0, `the rescore changed verdicts (${totals.changed})`)
  const rows = (
    await db.query<{ measurement_uid: string; measurement_start_time: Date; anomaly: boolean; failure: boolean }>(
      "SELECT measurement_uid, measurement_start_time, anomaly, failure FROM measurements WHERE measurement_uid LIKE 'prop-5-%' ORDER BY measurement_uid"
    )
  ).rows
  const flipped = rows
    .filter((_, i) => i % 5 === 0)
    .map(r => ({
      measurement_uid: r.measurement_uid,
      measurement_start_time: new Date(r.measurement_start_time),
      blocking_type: r.anomaly ? null : 'dns',
      anomaly: !r.anomaly,
      confirmed: false,
      failure: r.failure ? false : r.measurement_uid.endsWith('0'),
      down: false,
      unreachable: false,
      verdict_reason: 'flipped',
      fingerprints: null,
      scoring_version: 99,
      fingerprints_version: 'flip'
    }))
  const flips = await updateScores(db, flipped)
  t.equal(flips.changed, flipped.length, 'every flipped row changed')
  await compareAll(t, db, 'after a rescore that flips verdicts both ways')

  await db.query("DELETE FROM measurements WHERE measurement_uid LIKE 'prop-5-%3'")
  await compareAll(t, db, 'after a delete')

  // The comparison sees a wrong rollup: one probe too many in one day.
  await db.query(`UPDATE tl_day SET probes = probes || 999999 WHERE (lvl, probe_cc, lkey, domain, test_name, bucket) IN
    (SELECT lvl, probe_cc, lkey, domain, test_name, bucket FROM tl_day WHERE lvl = 'c' AND probe_cc = 'IR' LIMIT 1)`)
  const f: TimelineQuery = { probe_cc: 'IR', since: new Date(START - 24 * H), until: new Date(START + SPAN + 24 * H), time_grain: 'day', by: 'cc' }
  t.notSame(await queryTimeline(db, f), await queryTimelineRaw(db, f), 'a corrupted rollup is caught')
})
