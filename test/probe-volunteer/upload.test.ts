// Upload against a real aggregator (in-process app on a fresh database, on
// port 0): batches settle by the aggregator's answer, an answer lost on the
// way is retried without storing anything twice, a measurement rejected as
// invalid is quarantined and not retried, uploads go through a SOCKS5 proxy,
// and `probe export` + `aggregator import` deduplicate like upload does.
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { join } from 'node:path'
import { testApp } from '../helpers/aggregator-app.ts'
import { register } from '../../probe/src/checkin.ts'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import { flush } from '../../probe/src/upload/uploader.ts'
import { parseConfig, saveConfig } from '../../probe/src/config.ts'
import { main as exportMain } from '../../probe/src/commands/export.ts'
import { spawnSync } from 'node:child_process'
import { formatOoniTime } from '../../shared/src/time.ts'
import { uuidv7 } from '../../shared/src/uid.ts'
import type { Measurement } from '../../shared/src/measurement.ts'

const doc = (probeId: string, over: Record<string, unknown> = {}): Measurement => ({
  data_format_version: '0.2.0',
  measurement_uid: uuidv7(),
  measurement_start_time: formatOoniTime(Date.now() - 60_000),
  probe_cc: 'ZZ',
  probe_asn: 'AS0',
  probe_id: probeId,
  probe_ip: '127.0.0.1',
  input: 'https://example.com/',
  test_name: 'web_connectivity',
  test_keys: { blocking: false, accessible: true },
  ...over
})

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

/** A minimal SOCKS5 server (no auth, CONNECT only) that counts connections. */
function socks5(): { server: net.Server; connects: number } {
  const state = { server: net.createServer(), connects: 0 }
  state.server.on('connection', sock => {
    sock.once('data', () => {
      sock.write(Buffer.from([5, 0]))
      sock.once('data', (req: Buffer) => {
        let host: string
        let off: number
        if (req[3] === 1) {
          host = [...req.subarray(4, 8)].join('.')
          off = 8
        } else if (req[3] === 3) {
          const n = req[4]
          host = req.subarray(5, 5 + n).toString()
          off = 5 + n
        } else {
          sock.destroy()
          return
        }
        const port = req.readUInt16BE(off)
        const up = net.connect(port, host, () => {
          state.connects++
          sock.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
          sock.pipe(up)
          up.pipe(sock)
        })
        up.on('error', () => sock.destroy())
        sock.on('error', () => up.destroy())
      })
    })
  })
  return state
}

// A real PostgreSQL (127.0.0.1:5432 answers on every machine here), so that
// `blockwatch aggregator import` in a child process can reach the same database.
process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/postgres'

/** Runs `blockwatch aggregator import FILE` on the test database; returns the counts stored after it. */
function importCli(dbUrl: string, file: string): number {
  const r = spawnSync(process.execPath, ['scripts/blockwatch.js', 'aggregator', 'import', '--quiet', file], { env: { ...process.env, DATABASE_URL: dbUrl, LOG_LEVEL: 'silent' }, encoding: 'utf8' })
  return r.status ?? 1
}

t.test('upload against a real aggregator', async t => {
  const agg = await testApp({ rateLimits: { ingest: { max: 10_000, timeWindow: 60_000 }, probes: { max: 10_000, timeWindow: 60_000 } } })
  t.teardown(agg.close)
  const port = await listen(agg.app.server)
  const url = `http://127.0.0.1:${port}`
  const { probeId, token } = await register(url, null, {})
  t.ok(token.length > 10, 'registered')

  // A path that loses the first upload's answer after the aggregator stored it.
  let lost = 0
  const lossy = http.createServer((req, res) => {
    const fwd = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, up => {
      const chunks: Buffer[] = []
      up.on('data', c => chunks.push(c))
      up.on('end', () => {
        if (req.url === '/api/v1/measurements' && lost === 0) {
          lost++
          res.socket?.destroy()
          return
        }
        res.writeHead(up.statusCode ?? 502, up.headers)
        res.end(Buffer.concat(chunks))
      })
    })
    req.pipe(fwd)
  })
  const lossyPort = await listen(lossy)
  t.teardown(() => {
    lossy.close()
  })

  const dir = t.testdir()
  const outbox = Outbox.open(dir)
  t.teardown(() => {
    outbox.close()
  })
  const uids: string[] = []
  for (let i = 0; i < 25; i++) {
    const d = doc(probeId)
    uids.push(d.measurement_uid!)
    outbox.add(d, i % 3 === 0)
  }
  const bad = doc(probeId, { test_name: 'no_such_test' })
  outbox.add(bad, false)

  const r = await flush(outbox, { aggregatorUrl: `http://127.0.0.1:${lossyPort}`, token, probeId, http: { timeoutMs: 5000 }, batchSize: 10, baseBackoffMs: 20 }, true)
  t.equal(r.empty, true, 'outbox emptied')
  t.equal(lost, 1, 'one answer was lost on the way')
  const s = outbox.stats()
  t.match(s, { pending: 0, uploaded: 25, quarantined: 1 })
  t.ok(s.duplicates >= 1, 'the resent batch came back as duplicates')
  t.match(outbox.quarantined()[0], { uid: bad.measurement_uid, error: /test_name/ })
  const stored = await agg.tdb.db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d FROM measurements')
  t.same(stored.rows[0], { n: 25, d: 25 }, 'every measurement stored exactly once')

  // Through a SOCKS5 proxy (--upload-proxy socks5://…).
  const proxy = socks5()
  const proxyPort = await listen(proxy.server)
  t.teardown(() => {
    proxy.server.close()
  })
  outbox.add(doc(probeId), false)
  const r2 = await flush(outbox, { aggregatorUrl: url, token, probeId, http: { proxy: `socks5://127.0.0.1:${proxyPort}` } }, false)
  t.equal(r2.empty, true)
  t.ok(proxy.connects >= 1, 'the upload went through the proxy')

  // A refused token is retried, not dropped.
  outbox.add(doc(probeId), false)
  const r3 = await flush(outbox, { aggregatorUrl: url, token: 'bwp_wrong', probeId, http: {} }, false)
  t.equal(r3.empty, false)
  t.match(r3.error, /HTTP 401/)
  t.equal(outbox.stats().pending, 1, 'kept for later')

  // Export, carry out, import twice, then upload: stored once.
  for (let i = 0; i < 4; i++) outbox.add(doc(probeId), false)
  const cfgFile = join(dir, 'probe.json')
  saveConfig(cfgFile, { ...parseConfig({ aggregatorUrl: url, token, probeId }, dir) } as any)
  const file = join(dir, 'carried.jsonl.gz')
  const out = await exportMain([file, '--config', cfgFile, '--data-dir', dir])
  t.equal(out, 0)
  const count = async (): Promise<{ n: number; d: number }> =>
    (await agg.tdb.db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d FROM measurements')).rows[0]
  t.equal(importCli(agg.tdb.url, file), 0, 'aggregator import')
  t.same(await count(), { n: 31, d: 31 }, 'the carried measurements are stored')
  t.equal(importCli(agg.tdb.url, file), 0, 'aggregator import, again')
  t.same(await count(), { n: 31, d: 31 }, 'importing twice stores nothing twice')
  const r4 = await flush(outbox, { aggregatorUrl: url, token, probeId, http: {} }, false)
  t.match(r4, { empty: true, uploaded: 0, duplicates: 5 })
  const total = await agg.tdb.db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d FROM measurements')
  t.same(total.rows[0], { n: 31, d: 31 })
})
