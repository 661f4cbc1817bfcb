/** What `probe run` shows: a redrawn bar on a terminal, a line per target on a pipe, the summary table. */
import t from 'tap'
import { PassThrough } from 'node:stream'
import type { Measurement } from '../../shared/src/measurement.ts'
import { Progress, Summary, verdictLabel } from '../../probe/src/progress.ts'

const m = (blocking: unknown, accessible: unknown, input = 'http://x.test/'): Measurement => ({
  data_format_version: '0.2.0',
  measurement_start_time: '2026-11-25 00:00:00',
  probe_cc: 'ZZ',
  probe_asn: 'AS0',
  input,
  test_name: 'web_connectivity',
  test_keys: { blocking, accessible, verdict_failure: blocking === 'dns' ? 'dns_nxdomain_error' : null }
})
const read = (s: PassThrough): string => {
  const c = s.read() as Buffer | null
  return c === null ? '' : c.toString()
}

t.equal(verdictLabel(m(false, true)), 'ok')
t.equal(verdictLabel(m(false, false)), 'down')
t.equal(verdictLabel(m('dns', false)), 'blocked:dns')
t.equal(verdictLabel(m(null, null)), 'unknown')

t.test('a pipe gets one line per target', async t => {
  const out = new PassThrough()
  const p = new Progress(out, false)
  p.done(m('dns', false, 'http://a.test/'), 'blocked:dns')
  p.done(m(false, true, 'http://b.test/'), 'ok')
  p.finish()
  const lines = read(out).trim().split('\n')
  t.equal(lines.length, 2)
  t.match(lines[0], /^blocked:dns\s+web_connectivity\s+http:\/\/a\.test\/ \(dns_nxdomain_error\)$/)
})

t.test('a terminal gets a bar redrawn in place', async t => {
  const out = new PassThrough()
  const p = new Progress(out, true)
  p.setTotal(2)
  p.done(m('dns', false), 'blocked:dns')
  p.done(m(false, true), 'ok')
  p.finish()
  const text = read(out)
  t.match(text, /\r\[#{30}\] 2\/2 measured, 1 blocked/)
  t.notMatch(text, /web_connectivity/)
  t.ok(text.endsWith('\n'))
})

t.test('the summary table', async t => {
  const s = new Summary()
  for (const x of [m(false, true), m(false, true), m(false, false), m('tls', false), m(null, null)]) s.add(x)
  const table = s.table()
  t.match(table, /verdict\s+count/)
  t.match(table, /ok\s+2\n/)
  t.match(table, /down\s+1\n/)
  t.match(table, /blocked:tls\s+1\n/)
  t.match(table, /unknown\s+1\n/)
  t.match(table, /total\s+5\n/)
})
