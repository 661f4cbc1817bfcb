/**
 * A CSV export of 100,000 rows streams: the server reads the table in
 * chunks only as fast as the client takes them (a paused client stops the
 * reads), and the whole export arrives, header first.
 */
import { networkName } from '../../aggregator/src/names.ts'
import t from 'tap'
import { get } from 'node:http'
import { testDriver } from '../helpers/db.ts'
import { testApp } from '../helpers/aggregator-app.ts'
import { freshDb } from '../helpers/db.ts'
import type { Database } from '../../aggregator/src/store/db.ts'

const ROWS = 100_000

t.test(`a ${ROWS}-row CSV export streams in constant memory, on ${testDriver()}`, async t => {
  const tdb = await freshDb()
  t.teardown(tdb.close)
  await tdb.db.query("SELECT ensure_measurement_partition('2024-01-15 00:00:00+00')")
  await tdb.db.query(`INSERT INTO measurements (measurement_uid, measurement_start_time, report_id, probe_cc, probe_asn, probe_id, test_name, input, domain,
      category_code, blocking_type, anomaly, confirmed, failure, scoring_version, fingerprints_version, doc)
    SELECT 'u' || lpad(i::text, 7, '0'), timestamptz '2024-01-01 00:00:00+00' + i * interval '10 seconds', 'r', 'IR', 'AS197207', 'p' || (i % 7),
      'web_connectivity', 'https://site' || i || '.example/', 'site' || i || '.example', '=HYPERLINK("x")', NULL, i % 3 = 0, false, false, 1, 'v', '{}'::jsonb
    FROM generate_series(1, ${ROWS}) i`)

  // Count the chunk reads the export makes.
  let reads = 0
  const counting: Database = Object.assign(Object.create(Object.getPrototypeOf(tdb.db)), tdb.db, {
    query: async (sql: string, params?: unknown[]) => {
      if (/FROM measurements WHERE/.test(sql)) reads++
      return await tdb.db.query(sql, params)
    }
  })
  const { app, close } = await testApp({ db: counting, pseudonymSecret: 'k' }, tdb)
  t.teardown(close)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port

  // The network-name table (names.ts) is read once per process on first use:
  // load it now, so that what is measured below is the export alone.
  networkName('AS197207')
  const heapBefore = process.memoryUsage().heapUsed
  let heapMax = heapBefore
  const result = await new Promise<{ lines: number; bytes: number; first: string; readsWhilePaused: number; type: string }>((resolve, reject) => {
    get(`http://127.0.0.1:${port}/api/v1/measurements?format=csv&order=asc`, res => {
      let lines = 0
      let bytes = 0
      let first = ''
      let paused = false
      let readsWhilePaused = -1
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (first === '') first = chunk.slice(0, chunk.indexOf('\n'))
        bytes += chunk.length
        for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++
        heapMax = Math.max(heapMax, process.memoryUsage().heapUsed)
        if (!paused) {
          paused = true
          res.pause()
          setTimeout(() => {
            readsWhilePaused = reads
            res.resume()
          }, 1500)
        }
      })
      res.on('end', () => resolve({ lines, bytes, first, readsWhilePaused, type: String(res.headers['content-type']) }))
      res.on('error', reject)
    }).on('error', reject)
  })
  t.match(result.type, /^text\/csv/)
  t.equal(
    result.first,
    'measurement_uid,report_id,input,domain,category_code,test_name,measurement_start_time,probe_cc,probe_asn,probe_region,probe,blocking_type,anomaly,confirmed,failure,measurement_url,probe_cc_name,probe_network_name\r'
  )
  t.equal(result.lines, ROWS + 1, 'every row arrives, after the header')
  t.ok(result.readsWhilePaused < 40, `a paused client stops the reads (${result.readsWhilePaused} of ${ROWS / 1000} chunks read while paused)`)
  t.ok(reads >= ROWS / 1000, `the table was read in chunks (${reads})`)
  t.comment(`export: ${(result.bytes / 1e6).toFixed(1)} MB; heap grew by at most ${((heapMax - heapBefore) / 1e6).toFixed(1)} MB`)
  t.ok(heapMax - heapBefore < result.bytes * 3, 'the export was never held whole in memory')

  const page = await app.inject({ url: '/api/v1/measurements?format=csv&limit=2&order=asc' })
  t.match(
    page.body.split('\r\n')[1],
    /^u0000001,r,https:\/\/site1\.example\/,site1\.example,"'=HYPERLINK\(""x""\)",web_connectivity,2024-01-01T00:00:10Z,IR,AS197207,,p-[0-9a-f]{16},,false,false,false,https:/,
    'spreadsheet formulas are defused'
  )
})
