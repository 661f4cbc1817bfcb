// Scrubbing the probe's public address from a measurement: bodies, headers,
// failure strings, keys, base64 bodies, IPv6 spellings; private and loopback
// addresses are evidence and stay; what cannot be scrubbed is refused.
import t from 'tap'
import { scrubMeasurement, expandIpv6 } from '../../probe/src/privacy/scrub.ts'
import type { Measurement } from '../../shared/src/measurement.ts'

const base = (test_keys: Record<string, unknown>): Measurement => ({
  data_format_version: '0.2.0',
  measurement_uid: 'u1',
  measurement_start_time: '2026-11-25 10:00:00',
  probe_cc: 'IR',
  probe_asn: 'AS197207',
  probe_ip: '203.0.113.7',
  test_name: 'web_connectivity',
  test_keys
})

t.test('IPv4 in body, header, failure, key, base64', async t => {
  const doc = base({
    requests: [{ response: { body: 'Your IP is 203.0.113.7.', headers: { 'X-Client-IP': '203.0.113.7', 'X-Other': '203.0.113.70' } } }],
    failure: 'unknown_failure: read 203.0.113.7:443 reset',
    by_addr: { '203.0.113.7': true },
    raw: { format: 'base64', data: Buffer.from('\x00\x01ip=203.0.113.7\xff', 'latin1').toString('base64') },
    dns: ['10.10.34.34', '127.0.0.1']
  })
  const r = scrubMeasurement(doc, ['203.0.113.7'])
  t.equal(r.ok, true)
  if (!r.ok) return
  const text = JSON.stringify(r.doc)
  t.notMatch(text, '203.0.113.7"')
  t.notMatch(text, /203\.0\.113\.7(?!0)/)
  t.match(text, '203.0.113.70', 'a longer address is not mangled')
  t.match(text, '10.10.34.34', 'private answers are evidence and stay')
  t.equal(r.doc.probe_ip, '127.0.0.1')
  t.equal(Buffer.from((r.doc.test_keys as any).raw.data, 'base64').toString('latin1'), '\x00\x01ip=[scrubbed]\xff')
  t.ok('[scrubbed]' in (r.doc.test_keys as any).by_addr)
})

t.test('IPv6 spellings', async t => {
  t.equal(expandIpv6('2001:db8::1'), '2001:0db8:0000:0000:0000:0000:0000:0001')
  const doc = base({ a: 'from 2001:DB8:0:0:0:0:0:1 and 2001:db8::1 and 2001:0db8:0000:0000:0000:0000:0000:0001' })
  const r = scrubMeasurement(doc, ['2001:db8::1'])
  t.equal(r.ok, true)
  if (r.ok) t.equal((r.doc.test_keys as any).a, 'from [scrubbed] and [scrubbed] and [scrubbed]')
})

t.test('an address hidden in a way it cannot be scrubbed refuses the measurement', async t => {
  const hidden = Buffer.from('xx 203.0.113.7 yy').toString('base64')
  const r = scrubMeasurement(base({ opaque_blob: hidden }), ['203.0.113.7'])
  t.equal(r.ok, false)
})

t.test('loopback and private addresses are never treated as the probe address', async t => {
  const r = scrubMeasurement(base({ answer: '127.0.0.1', lan: '192.168.1.5' }), ['127.0.0.1', '192.168.1.5'])
  t.equal(r.ok, true)
  if (r.ok) t.same(r.doc.test_keys, { answer: '127.0.0.1', lan: '192.168.1.5' })
})
