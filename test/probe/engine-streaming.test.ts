/**
 * The engine's streaming and limits: measurements come out as they
 * complete; a huge list is pulled only as slots free up; the global and the
 * per-host limits hold; an abort stops the run; the clock offset is applied.
 */
import t from 'tap'
import type { Target } from '../../shared/src/target-list.ts'
import { measure } from '../../probe/src/engine.ts'
import { startDns } from '../fixtures/servers/dns.ts'
import { startHttp } from '../fixtures/servers/web.ts'
import { targetOf } from '../fixtures/targets.ts'

const inFlight = new Map<string, number>()
const maxPerHost = new Map<string, number>()
let global = 0
let maxGlobal = 0
const site = await startHttp((req, res) => {
  const host = (req.headers.host ?? '').split(':')[0]!
  inFlight.set(host, (inFlight.get(host) ?? 0) + 1)
  maxPerHost.set(host, Math.max(maxPerHost.get(host) ?? 0, inFlight.get(host)!))
  global++
  maxGlobal = Math.max(maxGlobal, global)
  setTimeout(() => {
    inFlight.set(host, inFlight.get(host)! - 1)
    global--
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<title>slow</title>')
  }, 150)
})
t.teardown(site.close)
const dns = await startDns({ 'a.test': { a: ['127.0.0.1'] }, 'b.test': { a: ['127.0.0.1'] }, 'c.test': { a: ['127.0.0.1'] } })
t.teardown(dns.close)
const base = { resolver: dns.address, controlUrl: null, timeouts: { dnsMs: 3000, connectMs: 3000, firstByteMs: 5000 } }

t.test('global and per-host limits; results stream as they complete', async t => {
  const targets: Target[] = []
  for (let i = 0; i < 6; i++) for (const h of ['a', 'b', 'c']) targets.push(targetOf(`http://${h}.test:${site.port}/${i}`))
  const seen: string[] = []
  for await (const m of measure(targets, { ...base, concurrency: 4, perHostConcurrency: 2 })) seen.push(m.input!)
  t.equal(seen.length, 18)
  t.ok(maxGlobal <= 4, `at most 4 at once (saw ${maxGlobal})`)
  for (const [host, n] of maxPerHost) t.ok(n <= 2, `at most 2 at once on ${host} (saw ${n})`)
})

t.test('a huge list is pulled lazily, and an abort ends the run', async t => {
  let pulled = 0
  const abort = new AbortController()
  async function* huge(): AsyncGenerator<Target> {
    for (let i = 0; i < 100_000; i++) {
      pulled++
      yield targetOf(`http://${['a', 'b', 'c'][i % 3]}.test:${site.port}/${i}`)
    }
  }
  let got = 0
  let pulledAtFirst = 0
  for await (const m of measure(huge(), { ...base, concurrency: 3, perHostConcurrency: 1, signal: abort.signal })) {
    if (got === 0) pulledAtFirst = pulled
    t.ok(m.test_keys !== null)
    if (++got === 5) abort.abort()
  }
  t.ok(pulledAtFirst < 100, `only a few targets pulled before the first result (${pulledAtFirst})`)
  t.ok(pulled < 200, `the run stopped pulling after the abort (${pulled})`)
  t.ok(got >= 5 && got < 20, `the measurements in flight finished (${got})`)
})

t.test('the clock and its offset stamp the measurement', async t => {
  const fixed = Date.parse('2030-01-02T03:04:05Z')
  for await (const m of measure([targetOf(`http://a.test:${site.port}/clock`)], { ...base, now: () => fixed, clockOffsetMs: 60_000 })) {
    t.equal(m.measurement_start_time, '2030-01-02 03:05:05')
    t.equal(m.probe_cc, 'ZZ')
    t.equal(m.probe_asn, 'AS0')
    t.equal((m.test_keys as { blocking: unknown }).blocking, null, 'no control: null')
  }
})

t.test('a target of a test the probe does not run is recorded, not thrown', async t => {
  const odd: Target = { ...targetOf(`http://a.test:${site.port}/`), test_name: 'ndt' }
  for await (const m of measure([odd], base)) {
    t.equal(m.test_name, 'ndt')
    t.match((m.test_keys as { failure: string }).failure, /^unknown_failure/)
  }
})
