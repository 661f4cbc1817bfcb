/**
 * `blockwatch probe run` as a user runs it: a real child process, a target
 * list on disk, a loopback DNS server, a canned control; JSONL written as
 * measurements complete, one line per target on a pipe, the summary table,
 * and exit 0 whatever the verdicts (non-zero only for a bad flag or list).
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FINGERPRINTS } from '../helpers/paths.ts'
import { startDns } from '../fixtures/servers/dns.ts'
import { startFakeControl } from '../fixtures/servers/fake-control.ts'
import { HEALTHY_PAGE, healthy, startHttp } from '../fixtures/servers/web.ts'

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    // English whatever the machine's locale: the assertions read the English messages.
    const p = spawn(process.execPath, ['scripts/blockwatch.js', 'probe', 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BLOCKWATCH_LANG: 'en' } })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', d => {
      stdout += String(d)
    })
    p.stderr.on('data', d => {
      stderr += String(d)
    })
    p.on('close', code => resolve({ code, stdout, stderr }))
  })
}

const site = await startHttp(healthy)
t.teardown(site.close)
const dns = await startDns({ 'ok.test': { a: ['127.0.0.1'] }, 'nx.test': { nxdomain: true } })
t.teardown(dns.close)
const page = { status: 200, bodyLength: Buffer.byteLength(HEALTHY_PAGE), title: 'Example Domain Healthy', headers: { 'x-site': 'example' } }
const control = await startFakeControl({ 'ok.test': { addrs: ['127.0.0.1'], http: page }, 'nx.test': { addrs: ['127.0.0.1'], http: page } })
t.teardown(control.close)

const dir = mkdtempSync(join(tmpdir(), 'bw-run-'))
const list = join(dir, 'list.csv')
writeFileSync(
  list,
  [
    'url,category_code,category_description,date_added,source,notes',
    `http://ok.test:${site.port}/,NEWS,News,2026-01-01,,`,
    `http://nx.test:${site.port}/,NEWS,News,2026-01-01,,`,
    `tcp://ok.test:${site.port},COMT,,2026-01-01,,`,
    'ftp://bad.test/,NEWS,,,,',
    ''
  ].join('\n')
)

t.test('measures a list, writes JSONL and a summary, exits 0', async t => {
  const out = join(dir, 'out.jsonl')
  const r = await cli(['--targets', list, '--resolver', dns.address, '--control', control.url, '--output', out, '--fingerprints', FINGERPRINTS, '--concurrency', '4'])
  t.equal(r.code, 0, r.stderr)
  const docs = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map(l => JSON.parse(l) as { input: string; test_keys: { blocking: unknown } })
  t.equal(docs.length, 3, 'one line per good target')
  const by = Object.fromEntries(docs.map(d => [d.input, d.test_keys.blocking]))
  t.equal(by[`http://ok.test:${site.port}/`], false)
  t.equal(by[`http://nx.test:${site.port}/`], 'dns')
  t.equal(by[`tcp://ok.test:${site.port}`], false)
  t.match(r.stderr, /list\.csv:5: column url/, 'a bad row is reported with its line')
  const lines = r.stdout.split('\n')
  t.equal(lines.filter(l => /^(ok|blocked:dns)\s+(web_connectivity|tcp_connect)\s/.test(l)).length, 3, 'one progress line per target on a pipe')
  t.match(r.stdout, /verdict\s+count/)
  t.match(r.stdout, /blocked:dns\s+1/)
  t.match(r.stdout, /total\s+3/)
})

t.test('no control: verdicts are null, the run still succeeds', async t => {
  const r = await cli(['--targets', list, '--resolver', dns.address, '--fingerprints', 'none', '--output', '-'])
  t.equal(r.code, 0, r.stderr)
  const docs = r.stdout
    .trim()
    .split('\n')
    .filter(l => l.startsWith('{'))
    .map(l => JSON.parse(l) as { test_keys: { blocking: unknown } })
  t.equal(docs.length, 3)
  t.ok(docs.every(d => d.test_keys.blocking === null || d.test_keys.blocking === 'dns' || d.test_keys.blocking === false))
  t.equal(docs.filter(d => d.test_keys.blocking === null).length >= 2, true)
})

t.test('citizenlab:CC streams the country list, then the global list, once per URL', async t => {
  const lists: Record<string, string> = {
    '/lists/xx.csv': `url,category_code,category_description,date_added,source,notes\nhttp://ok.test:${site.port}/,NEWS,,,,\nhttp://nx.test:${site.port}/,NEWS,,,,\n`,
    '/lists/global.csv': `url,category_code,category_description,date_added,source,notes\nhttp://ok.test:${site.port}/,NEWS,,,,\ntcp://ok.test:${site.port},COMT,,,,\n`
  }
  const mirror = await startHttp((req, res) => {
    const body = lists[req.url ?? '']
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/csv' })
    res.end(body ?? '')
  })
  t.teardown(mirror.close)
  const r = await cli([
    '--targets',
    'citizenlab:XX',
    '--citizenlab-url',
    `http://127.0.0.1:${mirror.port}/lists`,
    '--resolver',
    dns.address,
    '--control',
    control.url,
    '--fingerprints',
    'none',
    '--output',
    '-'
  ])
  t.equal(r.code, 0, r.stderr)
  const inputs = r.stdout
    .trim()
    .split('\n')
    .filter(l => l.startsWith('{'))
    .map(l => (JSON.parse(l) as { input: string }).input)
    .sort()
  t.same(inputs, [`http://nx.test:${site.port}/`, `http://ok.test:${site.port}/`, `tcp://ok.test:${site.port}`])
})

t.test('a bad flag exits 2, an unreadable list exits 1', async t => {
  const bad = await cli(['--concurrency', 'lots'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--concurrency must be a whole number/)
  const missing = await cli(['--targets', join(dir, 'nope.csv'), '--resolver', dns.address, '--fingerprints', 'none'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /cannot read .*nope\.csv/)
  const help = await cli(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Example:/)
})
