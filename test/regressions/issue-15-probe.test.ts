/**
 * Issue 15's smaller probe faults, one subtest each, on loopback:
 *  - after a complete drain, `probe status` no longer shows the last upload error;
 *  - the probe reads the hosts file (`localhost` was NXDOMAIN);
 *  - `probe run` on many hosts at once prints no MaxListenersExceededWarning;
 *  - a consented `probe start` measures the built-in messaging list.
 */
import t from 'tap'
import http from 'node:http'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { parseConfig } from '../../probe/src/config.ts'
import { MESSAGING_LIST } from '../../probe/src/lists/index.ts'
import { lookup } from '../../shared/src/netx/dns.ts'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import { targetsFor } from '../../probe/src/schedule.ts'
import { flush } from '../../probe/src/upload/uploader.ts'
import { readTargetListFile } from '../../shared/src/target-list.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { uuidv7 } from '../../shared/src/uid.ts'
import { startDns } from '../fixtures/servers/dns.ts'
import { startFakeControl } from '../fixtures/servers/fake-control.ts'
import { HEALTHY_PAGE, healthy, startHttp } from '../fixtures/servers/web.ts'

const cli = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  await new Promise(resolve => {
    execFile(process.execPath, ['scripts/blockwatch.js', ...args], (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }))
  })

t.test('after a complete drain, probe status shows no upload error', async t => {
  let up = false
  const agg = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (!up) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: 1, duplicates: 0, rejected: [] }))
    })
  })
  await new Promise<void>(resolve => agg.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    agg.close()
  })
  const dir = t.testdir()
  const outbox = Outbox.open(join(dir, 'state'))
  outbox.add(
    {
      data_format_version: '0.2.0',
      measurement_uid: uuidv7(),
      measurement_start_time: formatOoniTime(Date.now()),
      probe_cc: 'ZZ',
      probe_asn: 'AS0',
      probe_ip: '127.0.0.1',
      input: 'https://example.com/',
      test_name: 'web_connectivity',
      test_keys: {}
    },
    false
  )
  const opts = { aggregatorUrl: `http://127.0.0.1:${(agg.address() as { port: number }).port}`, token: 'tok', probeId: 'p1', http: { timeoutMs: 5000 } }
  t.equal((await flush(outbox, opts, false)).empty, false)
  t.match(outbox.stats().lastError, /HTTP 503/, 'the failure is recorded')
  outbox.recordError('run full: the list could not be read', Date.now(), 'run')
  outbox.recordError('HTTP 503: down for maintenance')
  up = true
  t.equal((await flush(outbox, opts, false)).empty, true)
  outbox.close()
  writeFileSync(join(dir, 'probe.json'), JSON.stringify({ aggregatorUrl: opts.aggregatorUrl }))
  const r = await cli(['probe', 'status', '--json', '--config', join(dir, 'probe.json'), '--data-dir', join(dir, 'state')])
  t.equal(r.code, 0, r.stderr)
  const status = JSON.parse(r.stdout) as { pending: number; last_error: string | null; last_error_at: string | null }
  t.equal(status.pending, 0)
  t.equal(status.last_error, null, 'the drained outbox shows no error')
  t.equal(status.last_error_at, null)

  // A run's error is not an upload's: a drain does not clear it.
  const again = Outbox.open(join(dir, 'state'))
  t.teardown(() => {
    again.close()
  })
  again.recordError('run full: the list could not be read', Date.now(), 'run')
  await flush(again, opts, false)
  t.match(again.stats().lastError, /^run full/)
})

t.test('the hosts file answers before DNS', async t => {
  const dns = await startDns({ 'site.test': { a: ['127.0.0.9'] } })
  t.teardown(dns.close)
  const server = { host: '127.0.0.1', port: dns.port }
  const local = await lookup('localhost', server, { timeoutMs: 2000 })
  t.equal(local.failure, null, 'localhost resolves (the system hosts file)')
  t.ok(local.addrs.includes('127.0.0.1') || local.addrs.includes('::1'), local.addrs.join(','))
  const file = join(t.testdir(), 'hosts')
  writeFileSync(file, '# a comment\n127.0.0.5  pinned.test  Alias.Test # trailing\n::1 pinned.test\nbad-line\n')
  const pinned = await lookup('alias.test', server, { timeoutMs: 2000, hostsFile: file })
  t.same(pinned.addrs, ['127.0.0.5'])
  t.equal(pinned.queries[0].resolver_address, `file:${file}`, 'recorded as answered by the file')
  t.same((await lookup('pinned.test', server, { timeoutMs: 2000, hostsFile: file })).addrs, ['127.0.0.5', '::1'])
  t.same((await lookup('site.test', server, { timeoutMs: 2000, hostsFile: file })).addrs, ['127.0.0.9'], 'other names still go to DNS')
  const asked = dns.queries
  await lookup('localhost', server, { timeoutMs: 2000, hostsFile: null })
  t.ok(dns.queries > asked, 'hostsFile null: DNS only')
})

t.test('probe run over many hosts at once prints no MaxListenersExceededWarning', async t => {
  // A slow page keeps every request in flight together.
  const site = await startHttp((req, res) => {
    setTimeout(() => healthy(req, res), 400)
  })
  t.teardown(site.close)
  const names = Array.from({ length: 16 }, (_, i) => `h${i}.test`)
  const dns = await startDns(Object.fromEntries(names.map(n => [n, { a: ['127.0.0.1'] }])))
  t.teardown(dns.close)
  const page = { status: 200, bodyLength: Buffer.byteLength(HEALTHY_PAGE), title: 'Example Domain Healthy', headers: { 'x-site': 'example' } }
  const control = await startFakeControl(Object.fromEntries(names.map(n => [n, { addrs: ['127.0.0.1'], http: page }])))
  t.teardown(control.close)
  const dir = t.testdir()
  const list = join(dir, 'list.csv')
  writeFileSync(list, 'url,category_code,category_description,date_added,source,notes\n' + names.map(n => `http://${n}:${site.port}/,NEWS,,,,`).join('\n') + '\n')
  const r = await cli(['probe', 'run', '--targets', list, '--resolver', dns.address, '--control', control.url, '--fingerprints', 'none', '--concurrency', '16', '--output', join(dir, 'out.jsonl')])
  t.equal(r.code, 0, r.stderr)
  t.notMatch(r.stderr, /MaxListenersExceededWarning|memory leak/)
  t.match(r.stdout, /ok\s+16/)
})

t.test("a consented probe start measures the messaging list after the aggregator's", async t => {
  const dir = t.testdir()
  const cfg = parseConfig({ consent: { given: true, textVersion: 1, at: null } }, dir)
  const own = join(dir, 'zz.csv')
  writeFileSync(own, 'url,category_code,category_description,date_added,source,notes\nhttps://news.test/,NEWS,,,,\n')
  const messaging: string[] = []
  for await (const item of readTargetListFile(MESSAGING_LIST)) if (item.target !== undefined) messaging.push(item.target.url)
  t.ok(messaging.length > 10, 'the built-in list has rows')
  const rt = { cfg, logger: pino({ level: 'silent' }), builtinLists: [{ name: 'messaging', file: MESSAGING_LIST }] }
  const urls: string[] = []
  for await (const target of targetsFor(rt, 'priority', { lists: [{ name: 'ZZ', priority: true, file: own }] })) urls.push(target.url)
  t.equal(urls[0], 'https://news.test/', "the aggregator's list first")
  t.same(urls.slice(1), [...new Set(messaging)], 'then every messaging target')
  const declined = { ...rt, cfg: parseConfig({}, dir) }
  const neutral: string[] = []
  for await (const target of targetsFor(declined, 'full', { lists: [] })) neutral.push(target.url)
  t.notOk(
    neutral.some(u => messaging.includes(u)),
    'no consent: never the messaging list'
  )
})
