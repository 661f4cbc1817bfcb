/**
 * Privacy and tokens (issue 9), end to end against a real aggregator process
 * (`blockwatch aggregator serve`, PGlite, request logging on):
 *
 *  - a probe connects from a distinctive address, 127.77.0.9, and registers,
 *    checks in and uploads with the probe's own HTTP client and uploader;
 *  - the public API and pages never show its probe_id, only a pseudonym that
 *    changes with the month;
 *  - its token uploads only as itself, is stored only hashed, and once
 *    revoked is refused at once;
 *  - afterwards the server's logs and every table of its database are
 *    searched for 127.77.0.9 and for the token: neither is there.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import { flush } from '../../probe/src/upload/uploader.ts'
import { postJson, request } from '../../probe/src/upload/http.ts'
import type { Measurement } from '../../shared/src/measurement.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { sampleMeasurement } from '../helpers/aggregator-app.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { freePort } from '../helpers/pg-cluster.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

const PROBE_ADDR = '127.77.0.9'
const ROOT = REPO_ROOT

t.test('the address a probe connects from is nowhere; probe_id is never public; tokens', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-privacy-'))
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let logs = ''
  // On PostgreSQL (CI), a throw-away database of the server's; otherwise PGlite in the test's folder.
  const pgDb = testDriver() === 'pg' ? await freshDb() : null
  if (pgDb !== null) t.teardown(pgDb.close)
  const server = spawn(process.execPath, ['scripts/blockwatch.js', 'aggregator', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', join(dir, 'db')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: pgDb?.url ?? '', ADMIN_TOKEN: 'admin-secret', PUBLIC_URL: base, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  server.stdout.on('data', (d: Buffer) => {
    logs += d.toString()
  })
  server.stderr.on('data', (d: Buffer) => {
    logs += d.toString()
  })
  let exited = false
  server.once('exit', () => {
    exited = true
  })
  t.teardown(() => {
    if (!exited) server.kill('SIGKILL')
  })
  const up = Date.now()
  while (!/listening on/.test(logs) && !exited && Date.now() - up < 120_000) await new Promise(resolve => setTimeout(resolve, 100))
  t.match(logs, /listening on/, 'the aggregator started')

  // Everything the probe (and, later, a visitor) sends leaves from 127.77.0.9.
  const savedAgent = http.globalAgent
  http.globalAgent = new http.Agent({ localAddress: PROBE_ADDR })
  t.teardown(() => {
    http.globalAgent.destroy()
    http.globalAgent = savedAgent
  })
  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const r = await request('GET', base + path, { accept: '*/*' }, null)
    return { status: r.status, text: r.text }
  }

  const reg = async (): Promise<{ probe_id: string; token: string }> => {
    const r = await postJson(`${base}/api/v1/probes/register`, { software_name: 'blockwatch', software_version: '0.1.0' }, null)
    t.equal(r.status, 201)
    return r.json as { probe_id: string; token: string }
  }
  const a = await reg()
  const b = await reg()
  const checkIn = await postJson(`${base}/api/v1/check-in`, { probe_cc: 'IR', probe_asn: 'AS197207' }, a.token)
  t.equal(checkIn.status, 200, 'check-in')
  // The reply tells the probe its own address, so that it can scrub it from
  // its measurements; that is the only place the address goes.
  t.notMatch(checkIn.text.replace(`"probe_ip":"${PROBE_ADDR}"`, ''), PROBE_ADDR, 'check-in shows the address only to the probe itself, as probe_ip')

  // Upload through the probe's outbox and uploader: this month and last month.
  const outbox = Outbox.open(join(dir, 'probe'))
  t.teardown(() => {
    outbox.close()
  })
  const now = Date.now()
  const lastMonth = new Date(now)
  lastMonth.setUTCDate(1)
  lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1)
  const docs = [
    sampleMeasurement(a.probe_id, { probe_ip: PROBE_ADDR }),
    sampleMeasurement(a.probe_id, { probe_ip: PROBE_ADDR, measurement_start_time: formatOoniTime(lastMonth), input: 'https://blocked.example/' })
  ]
  for (const d of docs) outbox.add(d as unknown as Measurement, false)
  const flushed = await flush(
    outbox,
    { aggregatorUrl: base, token: a.token, probeId: a.probe_id, http: { timeoutMs: 20_000 }, baseBackoffMs: 100, maxBackoffMs: 500, signal: AbortSignal.timeout(60_000) },
    true
  )
  t.equal(flushed.uploaded, 2, 'uploaded from 127.77.0.9')

  // Tokens: A's token cannot upload as B (nor as nobody).
  const asB = await request(
    'POST',
    `${base}/api/v1/measurements`,
    { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
    Buffer.from(JSON.stringify([sampleMeasurement(b.probe_id), sampleMeasurement(null)]))
  )
  const asBReply = JSON.parse(asB.text) as { accepted: number; rejected: Array<{ error: string }> }
  t.equal(asBReply.accepted, 0, "A's token stores nothing under B's probe_id or none")
  t.equal(asBReply.rejected.length, 2)
  t.match(asBReply.rejected[0].error, /probe_id/)

  // Public API and pages: no probe_id, a pseudonym that changes with the month.
  const list = await get('/api/v1/measurements?probe_cc=IR')
  t.equal(list.status, 200)
  const results = (JSON.parse(list.text) as { results: Array<{ measurement_uid: string; probe?: string; measurement_start_time: string }> }).results
  t.equal(results.length, 2)
  const pseudonyms = new Set(results.map(r => r.probe))
  t.equal(pseudonyms.size, 2, 'the same probe has a different pseudonym each month')
  t.ok(
    [...pseudonyms].every(p => typeof p === 'string' && p !== a.probe_id && !p.includes(a.probe_id)),
    'pseudonyms, not probe_id'
  )
  const pages = [
    '/api/v1/measurements?probe_cc=IR',
    `/api/v1/measurements/${results[0].measurement_uid}`,
    `/measurement/${results[0].measurement_uid}`,
    '/measurements?probe_cc=IR',
    '/',
    '/country/IR',
    '/api/v1/events',
    '/api/v1/timelines?probe_cc=IR',
    '/api/v1/feeds/events.atom',
    '/api/v1/reports/IR',
    '/api/v1/aggregation?probe_cc=IR',
    '/openapi.json',
    '/metrics'
  ]
  const leaks: string[] = []
  for (const p of pages) {
    const r = await get(p)
    if (r.status >= 500) leaks.push(`${p}: ${r.status}`)
    if (r.text.includes(a.probe_id)) leaks.push(`${p} shows probe_id`)
    if (r.text.includes(PROBE_ADDR)) leaks.push(`${p} shows the probe's address`)
  }
  t.same(leaks, [], `${pages.length} public pages and API routes show neither probe_id nor the address`)

  // Revocation takes effect at once.
  const revoke = await request('POST', `${base}/api/v1/admin/probes/${a.probe_id}/revoke`, { authorization: 'Bearer admin-secret', 'content-type': 'application/json' }, Buffer.from('{}'))
  t.equal(revoke.status, 200, 'revoked')
  const after = await request(
    'POST',
    `${base}/api/v1/measurements`,
    { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
    Buffer.from(JSON.stringify([sampleMeasurement(a.probe_id)]))
  )
  t.equal(after.status, 403, 'the next upload with the revoked token is refused')
  const afterCheckIn = await postJson(`${base}/api/v1/check-in`, {}, a.token)
  t.equal(afterCheckIn.status, 403, 'so is its check-in')

  // Stop the server, then search its logs and every table.
  server.kill('SIGTERM')
  const stopAt = Date.now()
  while (!exited && Date.now() - stopAt < 30_000) await new Promise(resolve => setTimeout(resolve, 100))
  t.ok(logs.split('\n').length > 10, `the server logged (${logs.split('\n').length} lines)`)
  t.notOk(logs.includes(PROBE_ADDR), 'no log line holds the address')
  t.notOk(logs.includes(a.token), 'no log line holds a token')
  const db = pgDb?.db ?? (await openDatabase({ dataDir: join(dir, 'db') }))
  if (pgDb === null)
    t.teardown(async () => {
      await db.close()
    })
  const tables = await db.query<{ name: string }>("SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  let rows = 0
  const found: string[] = []
  for (const { name } of tables.rows) {
    const r = await db.query<{ text: string | null; n: number }>(`SELECT string_agg(t::text, E'\\n') AS text, count(*)::int AS n FROM ${name} t`)
    rows += r.rows[0].n
    const text = r.rows[0].text ?? ''
    if (text.includes(PROBE_ADDR)) found.push(`${name} holds the address`)
    if (text.includes(a.token) || text.includes(b.token)) found.push(`${name} holds a token`)
  }
  const hashes = await db.query<{ token_hash: string }>('SELECT token_hash FROM probes')
  t.ok(
    hashes.rows.every(h => /^[0-9a-f]{64}$/.test(h.token_hash)),
    'tokens are stored as SHA-256 only'
  )
  t.same(found, [], `${tables.rows.length} tables (${rows} rows) hold neither the address nor a token`)
  t.comment(`privacy: probe at ${PROBE_ADDR}; ${logs.split('\n').length} log lines, ${tables.rows.length} tables / ${rows} rows searched, ${pages.length} public routes checked: 0 hits`)
})
