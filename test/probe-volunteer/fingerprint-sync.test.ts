/**
 * Fingerprints that reach every probe (issue 15): the aggregator serves its
 * list to its probes (probe token, ETag), and the probe takes it over the
 * upload channel, caches it, and refuses a list a censor in the path cut or
 * altered, keeping the last good one. A real aggregator on loopback, and a
 * "middlebox" in front of it that passes, cuts or rewrites the files.
 */
import t from 'tap'
import { once } from 'node:events'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { syncFingerprints, readCachedFingerprints, type SyncOptions } from '../../probe/src/fingerprint-sync.ts'
import { loadCatalogue, translator } from '../../probe/src/i18n/index.ts'
import { registerProbe, testApp } from '../helpers/aggregator-app.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'

const DNS_CSV = readFileSync(FINGERPRINTS + 'fingerprints_dns.csv', 'utf8')
const HTTP_CSV = readFileSync(FINGERPRINTS + 'fingerprints_http.csv', 'utf8')

const { app, close } = await testApp({ adminToken: 'admin-secret' })
t.teardown(close)
await app.listen({ port: 0, host: '127.0.0.1' })
const aggregator = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
const { token } = await registerProbe(app)
const put = await app.inject({ method: 'PUT', url: '/api/v1/fingerprints', headers: { authorization: 'Bearer admin-secret' }, payload: { dns_csv: DNS_CSV, http_csv: HTTP_CSV } })
const uploaded = put.json() as { version: string; dns: number; http: number }

/** What the middlebox does to http.csv's body on the way to the probe. */
let tamper: (body: string) => string = b => b
const middlebox: Server = createServer((req, res) => {
  void (async () => {
    const r = await fetch(aggregator + (req.url ?? '/'), {
      headers: Object.fromEntries(
        Object.entries(req.headers)
          .filter(([k]) => k !== 'host')
          .map(([k, v]) => [k, String(v)])
      )
    })
    const headers: Record<string, string> = {}
    r.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'content-encoding' && k !== 'transfer-encoding') headers[k] = v
    })
    let body = await r.text()
    if ((req.url ?? '').includes('http.csv') && r.status === 200) body = tamper(body)
    res.writeHead(r.status, headers).end(body)
  })().catch(() => res.destroy())
})
middlebox.listen(0, '127.0.0.1')
await once(middlebox, 'listening')
t.teardown(() => middlebox.close())
const viaMiddlebox = `http://127.0.0.1:${(middlebox.address() as { port: number }).port}`

const dataDir = mkdtempSync(join(tmpdir(), 'bw-fp-sync-'))
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
const lines: string[] = []
const opts = (over: Partial<SyncOptions> = {}): SyncOptions => ({
  aggregatorUrl: viaMiddlebox,
  token,
  http: { timeoutMs: 10_000 },
  dataDir,
  log: (lvl, msg) => {
    lines.push(`${lvl}: ${msg}`)
  },
  ...over
})

t.test("the list route: probe token, OONI's two files, ETag and 304; the admin route still counts", async t => {
  t.equal((await app.inject({ url: '/api/v1/fingerprints/dns.csv' })).statusCode, 401, 'no token: 401')
  t.equal((await app.inject({ url: '/api/v1/fingerprints/dns.csv', headers: { authorization: 'Bearer bwp_nope' } })).statusCode, 401, 'unknown token: 401')
  t.equal((await app.inject({ url: '/api/v1/fingerprints/list.csv', headers: { authorization: `Bearer ${token}` } })).statusCode, 400, 'only dns.csv and http.csv')
  const dns = await app.inject({ url: '/api/v1/fingerprints/dns.csv', headers: { authorization: `Bearer ${token}` } })
  t.equal(dns.statusCode, 200)
  t.match(dns.headers['content-type'], /^text\/csv/)
  t.equal(dns.body, DNS_CSV, 'the file the admin uploaded, byte for byte')
  t.equal(dns.headers['x-fingerprints-version'], uploaded.version)
  const etag = String(dns.headers.etag)
  t.match(etag, /^"sha256:[0-9a-f]{16}"$/)
  const again = await app.inject({ url: '/api/v1/fingerprints/http.csv', headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } })
  t.equal(again.statusCode, 304, 'If-None-Match with the current ETag: 304')
  t.equal(again.body, '')
  const counts = await app.inject({ url: '/api/v1/fingerprints', headers: { authorization: 'Bearer admin-secret' } })
  t.same(counts.json(), { version: uploaded.version, dns: uploaded.dns, http: uploaded.http }, "GET /api/v1/fingerprints: the admin's counts, as before")
  t.equal((await app.inject({ url: '/api/v1/fingerprints', headers: { authorization: `Bearer ${token}` } })).statusCode, 403, 'a probe token does not read the admin route')
})

t.test('a list served without an upload is the one the aggregator started with', async t => {
  const other = await testApp()
  t.teardown(other.close)
  const reg = await registerProbe(other.app)
  const dns = await other.app.inject({ url: '/api/v1/fingerprints/dns.csv', headers: { authorization: `Bearer ${reg.token}` } })
  t.equal(dns.statusCode, 200)
  t.equal(dns.headers['x-fingerprints-version'], 'ooni-test', "the start-up list's version")
  t.ok(dns.body.split('\n').length > 200, "OONI's DNS fingerprints, written back as CSV")
  const { checkFingerprintFiles } = await import('../../probe/src/fingerprint-sync.ts')
  const http = await other.app.inject({ url: '/api/v1/fingerprints/http.csv', headers: { authorization: `Bearer ${reg.token}` } })
  await t.resolves(checkFingerprintFiles({ version: 'ooni-test', etag: null, dnsCsv: dns.body, httpCsv: http.body }, null), 'and a probe accepts it')
})

t.test('the probe takes the list, caches it, and refuses a cut or altered one', async t => {
  const first = await syncFingerprints(opts())
  t.equal(first.source, 'aggregator')
  t.equal(first.fingerprints?.version, uploaded.version)
  t.equal(first.fingerprints?.http.length, uploaded.http)
  t.equal(readCachedFingerprints(dataDir)?.files.version, uploaded.version, 'cached on disk')

  t.equal((await syncFingerprints(opts())).source, 'unchanged', 'the same list again: 304, the cached copy')

  // Force a fresh download each time: the middlebox drops If-None-Match by changing nothing else,
  // so drop the cached ETag instead (a probe whose cache lost its meta would do the same).
  const refetch = async (over: Partial<SyncOptions> = {}): Promise<Awaited<ReturnType<typeof syncFingerprints>>> => {
    const meta = join(dataDir, 'fingerprints', 'meta.json')
    const m = JSON.parse(readFileSync(meta, 'utf8'))
    const { writeFileSync } = await import('node:fs')
    writeFileSync(meta, JSON.stringify({ ...m, etag: null }))
    lines.length = 0
    return await syncFingerprints(opts(over))
  }
  const cases: Array<[string, (b: string) => string, RegExp]> = [
    ['cut mid-row', b => b.slice(0, Math.floor(b.length * 0.6)), /refused: fingerprints_http\.csv/],
    ['cut at a line break, far fewer rows', b => b.split('\n').slice(0, 300).join('\n') + '\n', /refused: fingerprints_http\.csv: 299 rows where the last good list had \d+/],
    ['a row with a bad scope', b => b.replace(/\nooni\.ae_1,nat,/, '\nooni.ae_1,clear,'), /refused: fingerprints_http\.csv line 3 \(ooni\.ae_1\): scope must be one of/],
    ['a row with a bad pattern type', b => b.replace(/\nooni\.ae_1,nat,,header\.location,prefix,/, '\nooni.ae_1,fp,,header.location,anything,'), /pattern_type must be one of/]
  ]
  for (const [name, fn, want] of cases) {
    tamper = fn
    const r = await refetch()
    t.equal(r.source, 'cache', `${name}: refused`)
    t.equal(r.fingerprints?.version, uploaded.version, `${name}: the last good list is kept`)
    t.equal(r.fingerprints?.http.length, uploaded.http, `${name}: all of it`)
    t.match(lines.join('\n'), want, `${name}: one clear log line`)
    t.equal(readCachedFingerprints(dataDir)?.files.httpCsv, HTTP_CSV, `${name}: the cache still holds the good list`)
  }
  // In the volunteer's language when the caller asks (a readable log; JSON lines stay English).
  tamper = b => b.replace(/\nooni\.ae_1,nat,/, '\nooni.ae_1,clear,')
  await loadCatalogue('ru')
  t.equal((await refetch({ t: translator('ru') })).source, 'cache', 'refused, said in Russian')
  t.match(
    lines.join('\n'),
    /^warn: список отпечатков с агрегатора отвергнут: fingerprints_http\.csv, строка 3 \(ooni\.ae_1\): scope должен быть одним из: .*, получено "clear"; остаётся последний исправный список$/m,
    'the refusal and its reason, in Russian'
  )
  tamper = b => b
  t.equal((await refetch()).source, 'aggregator', 'the untouched list is taken again')

  lines.length = 0
  const down = await syncFingerprints(opts({ aggregatorUrl: 'http://127.0.0.1:1' }))
  t.equal(down.source, 'cache', 'aggregator out of reach: the cached copy')
  t.equal(down.fingerprints?.version, uploaded.version)
  t.match(lines.join('\n'), /could not fetch the fingerprint list/)
})

t.test("probe run with a probe config takes its aggregator's list and names it in each measurement", async t => {
  const site = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>local</title>')
  })
  site.listen(0, '127.0.0.1')
  await once(site, 'listening')
  t.teardown(() => site.close())
  const dir = t.testdir()
  const { writeFileSync } = await import('node:fs')
  const { execFile } = await import('node:child_process')
  const { probe_id: probeId, token: runToken } = await registerProbe(app)
  writeFileSync(join(dir, 'probe.json'), JSON.stringify({ aggregatorUrl: aggregator, probeId, token: runToken }))
  const list = join(dir, 'list.csv')
  writeFileSync(list, `url,category_code,category_description,date_added,source,notes\nhttp://127.0.0.1:${(site.address() as { port: number }).port}/,NEWS,,,,\n`)
  const out = join(dir, 'out.jsonl')
  const args = ['scripts/blockwatch.js', 'probe', 'run', '--config', join(dir, 'probe.json'), '--data-dir', join(dir, 'state'), '--targets', list, '--control', 'http://127.0.0.1:1', '--output', out]
  const r = await new Promise<{ code: number; stderr: string }>(resolve => {
    execFile(process.execPath, args, { timeout: 120_000 }, (err, _stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stderr }))
  })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, 'fingerprint list updated from the aggregator')
  const docs = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map(l => JSON.parse(l) as { annotations: Record<string, unknown> })
  t.equal(docs.length, 1)
  t.equal(docs[0].annotations.fingerprints_version, uploaded.version, 'annotations.fingerprints_version')
  t.equal(readCachedFingerprints(join(dir, 'state'))?.files.version, uploaded.version, 'cached next to the outbox')
})
