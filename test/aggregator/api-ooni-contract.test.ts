/**
 * OONI's API contract on our own data (issue 14): what OONI's integration
 * tests (ooni/backend, oonimeasurements tests/test_aggregation.py and
 * test_measurements.py) rely on, asked of blockwatch. The OONI samples of
 * ../shared/data are imported as `import-ooni` imports them; a grid of rows
 * with every combination of flags is written beside them, so that the
 * exclusive counts can be checked against a hand count of the raw rows.
 */
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { testDriver } from '../helpers/db.ts'
import { OONI_SAMPLES } from '../helpers/paths.ts'
import { ooniFingerprints, testApp } from '../helpers/aggregator-app.ts'
import { insertRows, type Row } from '../timeline/rows.ts'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'

const H = 3600_000
const T0 = Date.parse('2024-03-01T00:00:00Z') // a Friday
const FLAGS = [
  [false, false, false],
  [true, false, false],
  [true, true, false],
  [false, false, true],
  [true, false, true],
  [true, true, true],
  [false, true, false]
] as const

/** 12 days of rows: two countries, three networks, two domains, two tests, every combination of flags. */
function grid(): Row[] {
  const out: Row[] = []
  let i = 0
  for (let h = 0; h < 12 * 24; h += 5) {
    for (const [cc, asn] of [
      ['IR', 'AS197207'],
      ['IR', 'AS44244'],
      ['RU', 'AS12389']
    ] as const) {
      const [anomaly, confirmed, failure] = FLAGS[i % FLAGS.length]
      out.push({
        t: new Date(T0 + h * H + (i % 50) * 60_000),
        cc,
        asn,
        probe: `p${i % 4}`,
        domain: i % 3 === 0 ? 'a.example' : 'b.example',
        test_name: i % 5 === 0 ? 'dns_consistency' : 'web_connectivity',
        anomaly,
        confirmed,
        failure,
        uid: `g-${String(i).padStart(4, '0')}`
      })
      i++
    }
  }
  return out
}

interface Counts {
  anomaly_count: number
  confirmed_count: number
  failure_count: number
  ok_count: number
  measurement_count: number
}

/** OONI's exclusive counts, counted by hand. */
function handCount(rows: Array<{ anomaly?: boolean; confirmed?: boolean; failure?: boolean }>): Counts {
  const c = { anomaly_count: 0, confirmed_count: 0, failure_count: 0, ok_count: 0, measurement_count: rows.length }
  for (const r of rows) {
    if (r.failure === true) c.failure_count++
    else if (r.confirmed === true) c.confirmed_count++
    else if (r.anomaly === true) c.anomaly_count++
    else c.ok_count++
  }
  return c
}

const counts = (o: Record<string, unknown>): Counts => ({
  anomaly_count: o.anomaly_count as number,
  confirmed_count: o.confirmed_count as number,
  failure_count: o.failure_count as number,
  ok_count: o.ok_count as number,
  measurement_count: o.measurement_count as number
})

t.test(`OONI's API contract, on ${testDriver()}`, async t => {
  const { app, tdb, close } = await testApp({ rateLimits: { researcher: { max: 100_000, timeWindow: '1 minute' }, default: { max: 100_000, timeWindow: '1 minute' } } })
  t.teardown(close)
  const files = readdirSync(OONI_SAMPLES)
    .filter(f => f.endsWith('.json'))
    .sort()
  const docs = files.map(f => JSON.parse(readFileSync(OONI_SAMPLES + f, 'utf8')) as Record<string, unknown>)
  const ingested = await ingestBatch(
    tdb.db,
    docs.map(doc => ({ doc })),
    { fingerprints: await ooniFingerprints(), nowMs: Date.now() }
  )
  t.same(ingested.rejected, [])
  const rows = grid()
  await insertRows(tdb.db, rows)
  const get = async (url: string): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string; json: () => any }> => await app.inject({ url })
  const agg = async (qs: string): Promise<any> => {
    const r = await get(`/api/v1/aggregation?${qs}`)
    t.equal(r.statusCode, 200, `${qs}: ${r.body.slice(0, 300)}`)
    return r.json()
  }
  const span = 'since=2024-03-01&until=2024-03-13'

  t.test("aggregation: OONI's shape and exclusive counts equal a hand count of the raw rows", async t => {
    const all = await agg(span)
    t.same(Object.keys(all).sort(), ['dimension_count', 'result', 'v'])
    t.equal(all.dimension_count, 0)
    t.equal(all.v, 0)
    t.same(counts(all.result), handCount(rows))
    const byCc = await agg(`${span}&axis_x=probe_cc`)
    for (const cc of ['IR', 'RU']) {
      const row = byCc.result.find((x: { probe_cc: string }) => x.probe_cc === cc)
      t.same(counts(row), handCount(rows.filter(r => r.cc === cc)), `${cc}: the exclusive counts`)
    }
    t.equal(byCc.result.find((x: { probe_cc: string }) => x.probe_cc === 'IR').probe_cc_name, 'Iran', "the country's name beside its code")
    // The flags' own counts, from SQL, agree with the hand count too (the grid holds rows with several flags).
    const raw = await tdb.db.query<{ anomaly: boolean; confirmed: boolean; failure: boolean }>("SELECT anomaly, confirmed, failure FROM measurements WHERE measurement_uid LIKE 'g-%'")
    t.same(handCount(raw.rows), handCount(rows))
    t.ok(
      raw.rows.some(r => r.anomaly && r.confirmed && r.failure),
      'the grid holds rows with every flag set'
    )
  })

  t.test('aggregation: axes, bucket labels, week start, grains and range rules', async t => {
    const hourly = await agg('since=2024-03-01&until=2024-03-03&axis_x=measurement_start_day')
    t.ok(hourly.result.length > 1)
    t.ok(
      hourly.result.every((x: { measurement_start_day: string }) => /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/.test(x.measurement_start_day)),
      'auto over 2 days: hours, YYYY-MM-DDTHH:00:00Z'
    )
    t.equal(hourly.result[0].measurement_start_day, '2024-03-01T00:00:00Z')
    const daily = await agg(`${span}&axis_x=measurement_start_day&probe_cc=IR`)
    t.same(
      daily.result.map((x: { measurement_start_day: string }) => x.measurement_start_day),
      Array.from({ length: 12 }, (_, d) => new Date(T0 + d * 24 * H).toISOString().slice(0, 10)),
      'auto over 12 days: days, YYYY-MM-DD'
    )
    const day1 = daily.result[0]
    t.same(counts(day1), handCount(rows.filter(r => r.cc === 'IR' && new Date(r.t).getTime() < T0 + 24 * H)), "a day's counts")
    const weekly = await agg(`${span}&axis_x=measurement_start_day&time_grain=week`)
    t.same(
      weekly.result.map((x: { measurement_start_day: string }) => x.measurement_start_day),
      ['2024-02-25', '2024-03-03', '2024-03-10'],
      'weeks start on Sunday (ClickHouse toStartOfWeek, mode 0): Friday 1 March is in the week of Sunday 25 February'
    )
    t.same(counts(weekly.result[0]), handCount(rows.filter(r => new Date(r.t).getTime() < Date.parse('2024-03-03T00:00:00Z'))))
    const monthly = await agg('since=2024-01-01&until=2024-06-01&axis_x=measurement_start_day&time_grain=month')
    t.same(
      monthly.result.map((x: { measurement_start_day: string }) => x.measurement_start_day),
      ['2024-03-01']
    )
    const yearly = await agg('since=2019-01-01&until=2026-01-01&axis_x=measurement_start_day&time_grain=year&probe_cc=IR')
    t.same(
      yearly.result.map((x: { measurement_start_day: string }) => x.measurement_start_day),
      ['2020-01-01', '2022-01-01', '2024-01-01'],
      'years: the OONI samples of 2020 and 2022, and the grid'
    )
    const old = await agg(`${span}&axis_x=measurement_start_time&time_grain=day&probe_cc=RU`)
    t.equal(old.result[0].measurement_start_time, '2024-03-01T00:00:00Z', 'our older axis name keeps its timestamps')
    t.equal(old.time_grain, 'day')

    for (const [qs, field, msg] of [
      ['since=2024-03-01&until=2024-03-03&axis_x=measurement_start_day&time_grain=year', 'time_grain', /between hour, day, auto/],
      ['since=2024-03-01&until=2024-03-13&axis_x=measurement_start_day&time_grain=hour', 'time_grain', /between day, week, auto/],
      ['since=2024-01-01&until=2024-06-01&axis_x=measurement_start_day&time_grain=year', 'time_grain', /between day, week, month, auto/],
      ['since=2020-01-01&until=2024-06-01&axis_x=measurement_start_day&time_grain=hour', 'time_grain', /between day, week, month, year, auto/],
      ['since=2024-03-13&until=2024-03-01&axis_x=measurement_start_day', 'since', /after until/],
      ['axis_x=probe_cc&axis_y=probe_cc', 'axis_y', /cannot be the same/],
      ['axis_x=measurement_start_day&axis_y=measurement_start_time', 'axis_y', /one time axis/],
      ['axis_x=probe_id', 'axis_x', /must be one of measurement_start_day, probe_cc, probe_asn/],
      ['time_grain=fortnight', 'time_grain', /must be one of hour, day, week, month, year, auto/],
      ['format=XML', 'format', /must be one of JSON, CSV/]
    ] as const) {
      const r = await get(`/api/v1/aggregation?${qs}`)
      t.equal(r.statusCode, 400, qs)
      t.match(r.json(), { error: msg, field, code: 'AGG_ERR_BAD_PARAM', v: 0 }, `${qs}: 400 naming ${field}`)
    }
    const auto = await agg('since=2024-03-01&until=2024-03-08&axis_x=measurement_start_day&time_grain=auto')
    t.match(auto.result[0].measurement_start_day, /T00:00:00Z$/, 'auto at 7 days: hour')

    const yOnly = await agg(`${span}&axis_y=probe_cc`)
    t.equal(yOnly.dimension_count, 1, 'axis_y alone, as OONI allows')
    const two = await agg(`${span}&axis_x=measurement_start_day&axis_y=probe_asn&probe_cc=IR`)
    t.equal(two.dimension_count, 2)
    t.ok(
      two.result.every((x: { probe_asn: unknown }) => typeof x.probe_asn === 'number'),
      'probe_asn a number in aggregation JSON, as OONI writes it'
    )
    t.same([...new Set(two.result.map((x: { probe_asn: number }) => x.probe_asn))], [44244, 197207], 'networks in number order, as OONI sorts them')
    t.equal(two.result.find((x: { probe_asn: number }) => x.probe_asn === 197207).probe_network_name, 'Mobile Communication Company of Iran PLC')
    const cat = await agg('axis_x=category_code&probe_cc=IR')
    t.ok(cat.result.length > 0 && cat.result.every((x: Record<string, unknown>) => 'category_code' in x))
    const bt = await agg('axis_x=blocking_type&since=2020-01-01&until=2026-01-01')
    t.ok(
      bt.result.some((x: { blocking_type: string | null }) => x.blocking_type === 'dns'),
      'blocking_type axis'
    )
    const inp = await agg('axis_x=input&probe_cc=IR&since=2020-01-01&until=2023-01-01')
    t.equal(inp.result.length, 2)
  })

  t.test('aggregation: multi-values, report_id, CSV and download', async t => {
    const one = async (qs: string): Promise<Counts> => counts((await agg(`${span}&${qs}`)).result)
    const sum = (a: Counts, b: Counts): Counts => Object.fromEntries(Object.keys(a).map(k => [k, a[k as keyof Counts] + b[k as keyof Counts]])) as unknown as Counts
    t.same(await one('probe_cc=IR,RU'), sum(await one('probe_cc=IR'), await one('probe_cc=RU')), 'probe_cc=IR,RU')
    t.same(await one('probe_asn=AS197207,12389'), sum(await one('probe_asn=AS197207'), await one('probe_asn=12389')), 'probe_asn in both forms')
    t.same(await one('test_name=web_connectivity,dns_consistency'), handCount(rows), 'test_name=a,b')
    t.same(await one('domain=a.example,b.example'), handCount(rows), 'domain=a,b')
    t.same(await one('probe_cc=IR,RU&probe_asn=197207'), handCount(rows.filter(r => r.asn === 'AS197207')), 'lists and single values together')
    t.equal((await one('report_id=nonexistent')).measurement_count, 0, 'report_id filters (it was ignored)')

    let r = await get(`/api/v1/aggregation?${span}&axis_x=probe_asn&probe_cc=IR&format=CSV`)
    t.match(r.headers['content-type'], /^text\/csv/)
    t.notOk('content-disposition' in r.headers, 'not a download')
    const lines = r.body.trim().split('\r\n')
    t.equal(lines[0], 'anomaly_count,confirmed_count,failure_count,measurement_count,ok_count,probe_asn,probe_network_name', "OONI's columns, sorted by name")
    t.match(lines[1], /^\d+,\d+,\d+,\d+,\d+,44244,/, 'probe_asn a number in CSV too')
    r = await get(`/api/v1/aggregation?${span}&format=csv&download=true`)
    t.equal(r.headers['content-disposition'], 'attachment; filename=ooni-aggregate-data.csv')
    t.equal(r.body.split('\r\n')[0], 'anomaly_count,confirmed_count,failure_count,measurement_count,ok_count')
    r = await get(`/api/v1/aggregation?${span}&download=true`)
    t.equal(r.headers['content-disposition'], 'attachment; filename=ooni-aggregate-data.json')
    t.equal(r.json().v, 0)
    r = await get('/api/v1/aggregation?ooni_run_link_id=1234')
    t.match(r.json(), { code: 'AGG_ERR_UNSUPPORTED_PARAM', field: 'ooni_run_link_id', error: /not supported/ }, "OONI's parameter we lack: not supported, not unknown")
  })

  t.test('measurements: offset paging skips rows, reaches the end and stops; next_url too', async t => {
    const filter = 'probe_cc=IR,RU&since=2024-03-01&until=2024-03-13'
    const whole = (await get(`/api/v1/measurements?${filter}&limit=100000`)).json()
    t.equal(whole.results.length, rows.length, 'a JSON page beyond 1000 rows (streamed)')
    const order = whole.results.map((x: { measurement_uid: string }) => x.measurement_uid)
    t.equal(whole.metadata.next_url, null, 'nothing left: no next_url')
    const page = (await get(`/api/v1/measurements?${filter}&limit=3&offset=5`)).json()
    t.same(
      page.results.map((x: { measurement_uid: string }) => x.measurement_uid),
      order.slice(5, 8),
      'offset=5 skips 5 rows'
    )
    t.match(page.metadata, { count: 3, limit: 3, offset: 5, current_page: 2, pages: -1, query_time: Number })
    t.match(page.metadata.next_url, /[?&]offset=8(&|$)/, 'offset paging goes on by offset')

    // A client written for OONI: offset += limit until a short page.
    const seen: string[] = []
    let requests = 0
    for (let offset = 0; requests < 1000; offset += 40) {
      requests++
      const b = (await get(`/api/v1/measurements?${filter}&limit=40&offset=${offset}`)).json()
      seen.push(...b.results.map((x: { measurement_uid: string }) => x.measurement_uid))
      if (b.results.length < 40) break
    }
    t.same(seen, order, `offset paging visits every row once, in order, and stops (${requests} requests)`)
    // Following next_url, from an offset page and from a page without offset (cursor).
    for (const start of [`/api/v1/measurements?${filter}&limit=40&offset=0`, `/api/v1/measurements?${filter}&limit=40`]) {
      const got: string[] = []
      let url: string | null = start
      let n = 0
      while (url !== null && n++ < 1000) {
        const b: { results: Array<{ measurement_uid: string }>; metadata: { next_url: string | null } } = (await get(url)).json()
        got.push(...b.results.map(x => x.measurement_uid))
        url = b.metadata.next_url === null ? null : b.metadata.next_url.replace('https://bw.example.org', '')
      }
      t.same(got, order, `next_url from ${start} visits every row once and ends with null`)
    }
    const exact = (await get(`/api/v1/measurements?${filter}&limit=${rows.length}`)).json()
    t.equal(exact.metadata.next_url, null, 'a page that ends exactly at the last row has no next_url')
    const asc = (await get(`/api/v1/measurements?${filter}&order=ASC&order_by=measurement_start_time&limit=2`)).json()
    t.same(
      asc.results.map((x: { measurement_uid: string }) => x.measurement_uid),
      [...order].reverse().slice(0, 2),
      'order=ASC'
    )
    const last = asc.results[1] as { measurement_start_time: string; measurement_uid: string }
    const cont = last.measurement_start_time.replace(/\D/g, '').slice(0, 14) + '-' + last.measurement_uid
    const after = (await get(`/api/v1/measurements?${filter}&order=asc&limit=1&cont=${cont}`)).json()
    t.same(
      after.results.map((x: { measurement_uid: string }) => x.measurement_uid),
      [[...order].reverse()[2]],
      "OONI's cont token"
    )
  })

  t.test('measurements: filters, value forms and fields', async t => {
    const report = docs.find(d => d.probe_cc === 'IR')!
    let b = (await get(`/api/v1/measurements?report_id=${encodeURIComponent(String(report.report_id))}`)).json()
    t.ok(b.results.length >= 1)
    t.ok(
      b.results.every((x: { report_id: string }) => x.report_id === report.report_id),
      'report_id filters (it was ignored)'
    )
    b = (await get('/api/v1/measurements?probe_cc=IR,RU&since=2024-03-01&until=2024-03-01T05:00:00&limit=1000')).json()
    t.same(
      b.results.map((x: { measurement_uid: string }) => x.measurement_uid).sort(),
      rows
        .filter(r => new Date(r.t).getTime() < T0 + 5 * H)
        .map(r => r.uid)
        .sort(),
      'until exclusive; a timestamp without offset is UTC'
    )
    const x = b.results[0]
    t.match(x, {
      probe_asn: /^AS\d+$/,
      probe_cc_name: /^(Iran|Russia)$/,
      probe_network_name: String,
      scores: { blocking_general: Number },
      measurement_url: /\/api\/v1\/raw_measurement\?measurement_uid=/
    })
    t.match(x.measurement_start_time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    const r = await get('/api/v1/measurements?probe_cc=RU&format=CSV&limit=2&since=2024-03-01')
    t.match(r.headers['content-type'], /^text\/csv/)
    t.equal(r.body.trim().split('\r\n').length, 3)
  })

  t.test('raw_measurement and measurement_meta', async t => {
    const doc = docs.find(d => d.probe_cc === 'IR' && typeof d.input === 'string')!
    const uid = (await get(`/api/v1/measurements?report_id=${encodeURIComponent(String(doc.report_id))}`)).json().results[0].measurement_uid as string
    let r = await get(`/api/v1/raw_measurement?measurement_uid=${encodeURIComponent(uid)}`)
    t.equal(r.statusCode, 200)
    const raw = r.json()
    t.equal(raw.report_id, doc.report_id)
    t.same(raw.test_keys, doc.test_keys, 'the stored document')
    t.notOk('probe_id' in raw)
    r = await get(`/api/v1/raw_measurement?report_id=${encodeURIComponent(String(doc.report_id))}&input=${encodeURIComponent(String(doc.input))}`)
    t.same(r.json(), raw, 'by report_id and input, as OONI looks it up')
    r = await get('/api/v1/raw_measurement?measurement_uid=nope')
    t.match(r, { statusCode: 404 })
    t.match(r.json(), { code: 'AGG_ERR_NOT_FOUND', v: 0 }, "not found is a 404, not OONI's 200 with {}")
    r = await get('/api/v1/raw_measurement')
    t.match(r.json(), { statusCode: 400, field: 'measurement_uid' })

    r = await get(`/api/v1/measurement_meta?measurement_uid=${encodeURIComponent(uid)}`)
    const meta = r.json()
    t.match(meta, {
      measurement_uid: uid,
      report_id: doc.report_id,
      input: doc.input,
      probe_cc: 'IR',
      probe_cc_name: 'Iran',
      probe_asn: Number(String(doc.probe_asn).slice(2)),
      test_name: doc.test_name,
      anomaly: Boolean,
      confirmed: Boolean,
      failure: Boolean,
      scores: String
    })
    t.match(meta.measurement_start_time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    t.equal(typeof JSON.parse(meta.scores).blocking_general, 'number')
    t.notOk('raw_measurement' in meta)
    const full = (await get(`/api/v1/measurement_meta?measurement_uid=${encodeURIComponent(uid)}&full=true`)).json()
    t.same(JSON.parse(full.raw_measurement), raw, 'full=true: the document as a JSON string')
  })
})
