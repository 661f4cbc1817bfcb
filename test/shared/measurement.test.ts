import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { validateMeasurement, DATA_FORMAT_VERSION } from '../../shared/src/measurement.ts'
import { formatOoniTime, parseOoniTime } from '../../shared/src/time.ts'
import { uuidv7, contentUid } from '../../shared/src/uid.ts'
import { domainOf } from '../../shared/src/target.ts'
import { OONI_SAMPLES } from '../helpers/paths.ts'

const samples = readdirSync(OONI_SAMPLES).filter(f => f.endsWith('.json'))

t.test('every real OONI sample validates unchanged', async t => {
  t.ok(samples.length >= 15, `found ${samples.length} samples`)
  for (const f of samples) {
    const text = readFileSync(OONI_SAMPLES + f, 'utf8')
    const doc = JSON.parse(text)
    t.same(validateMeasurement(doc), [], f)
    t.equal(JSON.stringify(doc), JSON.stringify(JSON.parse(text)), `${f} is not modified by validation`)
  }
})

t.test('a missing required field is named', async t => {
  const doc = JSON.parse(readFileSync(OONI_SAMPLES + 'report1.json', 'utf8'))
  delete doc.probe_cc
  const issues = validateMeasurement(doc)
  t.ok(
    issues.some(i => i.field === 'probe_cc'),
    JSON.stringify(issues)
  )
})

t.test('wrong formats are named with the value', async t => {
  const base = JSON.parse(readFileSync(OONI_SAMPLES + 'report1.json', 'utf8'))
  const cases: Array<[string, unknown]> = [
    ['measurement_start_time', '2019-07-20T20:18:30Z'],
    ['probe_asn', '20115'],
    ['probe_cc', 'usa'],
    ['data_format_version', '1.0.0'],
    ['probe_region', 'Tehran'],
    ['test_keys', 'blocked']
  ]
  for (const [field, value] of cases) {
    const issues = validateMeasurement({ ...base, [field]: value })
    t.ok(
      issues.some(i => i.field === field && i.message.includes(field)),
      `${field}: ${JSON.stringify(issues)}`
    )
  }
  t.same(validateMeasurement([]), [{ field: '', message: 'a measurement must be a JSON object' }])
  t.same(validateMeasurement({ ...base, data_format_version: '0.3.0', test_keys: null, input: undefined }), [])
})

t.test('OONI time format round-trips in UTC', async t => {
  t.equal(formatOoniTime(Date.UTC(2009, 4, 23, 1, 2, 3)), '2009-05-23 01:02:03')
  t.equal(parseOoniTime('2009-05-23 01:02:03')?.getTime(), Date.UTC(2009, 4, 23, 1, 2, 3))
  t.equal(parseOoniTime('2009-05-23T01:02:03Z'), null)
  t.equal(DATA_FORMAT_VERSION, '0.2.0')
})

t.test('uuidv7 is time-ordered and versioned; content uids are stable', async t => {
  const a = uuidv7(1_000_000)
  const b = uuidv7(2_000_000)
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.ok(a < b)
  t.not(uuidv7(5), uuidv7(5))
  t.equal(contentUid({ b: 1, a: [1, { d: 2, c: 3 }] }), contentUid({ a: [1, { c: 3, d: 2 }], b: 1 }))
  t.not(contentUid({ a: 1 }), contentUid({ a: 2 }))
})

t.test('domain is the host name whatever the scheme', async t => {
  t.equal(domainOf('https://www.BBC.com/persian'), 'www.bbc.com')
  t.equal(domainOf('dns://twitter.com'), 'twitter.com')
  t.equal(domainOf('smpp://smsc.example.net:2775'), 'smsc.example.net')
  t.equal(domainOf('smsapi+https://api.sms.example/v1/send'), 'api.sms.example')
  t.equal(domainOf('tcp://[2001:db8::1]:443'), '2001:db8::1')
  t.equal(domainOf('not a url'), null)
  t.equal(domainOf(null), null)
})
