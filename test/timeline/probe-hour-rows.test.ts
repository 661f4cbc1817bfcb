/**
 * The detector's rows as loadSeriesRows computes them from measurements:
 * the times of the first and last ok measurement of a probe's hour count
 * neither anomalies, failures nor down targets (docs/methodology.md,
 * "Onset and end").
 */
import t from 'tap'
import { freshDb, testDriver } from '../helpers/db.ts'
import { insertRows } from './rows.ts'
import { loadSeriesRows } from '../../aggregator/src/timeline/store.ts'

const T0 = Date.parse('2009-05-20T10:00:00Z')
const MIN = 60_000

t.test(`first_ok and last_ok per probe and hour (${testDriver()})`, async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  const at = (m: number): Date => new Date(T0 + m * MIN)
  await insertRows(db, [
    { t: at(5), probe: 'p1' },
    { t: at(20), probe: 'p1', anomaly: true },
    { t: at(30), probe: 'p1' },
    { t: at(40), probe: 'p1', down: true },
    { t: at(50), probe: 'p1', failure: true },
    { t: at(55), probe: 'p1', anomaly: true, failure: true },
    { t: at(10), probe: 'p2', anomaly: true },
    { t: at(70), probe: 'p2' }
  ])
  const rows = await loadSeriesRows(db, 'IR', 'www.facebook.com', 'web_connectivity')
  const p1 = rows.find(r => r.probe === 'p1')
  t.same(
    { first_ok: p1?.first_ok, last_ok: p1?.last_ok, first_anomaly: p1?.first_anomaly, last_anomaly: p1?.last_anomaly },
    { first_ok: T0 + 5 * MIN, last_ok: T0 + 30 * MIN, first_anomaly: T0 + 20 * MIN, last_anomaly: T0 + 20 * MIN },
    'ok times leave out anomalies, down targets and failures'
  )
  const p2 = rows.filter(r => r.probe === 'p2').sort((a, b) => a.hour - b.hour)
  t.same(
    p2.map(r => [r.first_ok, r.last_ok]),
    [
      [null, null],
      [T0 + 70 * MIN, T0 + 70 * MIN]
    ],
    'null in an hour without ok measurements'
  )
})
