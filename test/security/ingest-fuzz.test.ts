/**
 * Hostile input (issue 9): ingest fuzzing. At least 10,000 generated
 * mutations of a valid measurement — wrong types, huge strings, deep nesting,
 * invalid UTF-8, NUL bytes, numbers out of range, duplicate keys,
 * prototype-pollution keys, odd Unicode, odd dates and uids — are uploaded,
 * most of them many to a request (NDJSON), a few hundred as single raw
 * bodies. Each must be refused with a 4xx (per document or per request) or
 * be stored intact; none may get a 5xx, crash the server, pollute
 * Object.prototype or leave the tables disagreeing. The counts are printed
 * (and copied into docs/security.md).
 *
 * The generator is seeded (FUZZ_SEED), so a failure can be replayed.
 */
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { SCRUBBED_PROBE_IP } from '../../shared/src/measurement.ts'
import { contentUid } from '../../shared/src/uid.ts'
import { formatOoniTime, parseOoniTime } from '../../shared/src/time.ts'
import { build } from '../../aggregator/src/app.ts'
import { toErrorBody } from '../../aggregator/src/http-errors.ts'
import { ooniFingerprints, registerProbe, sampleMeasurement } from '../helpers/aggregator-app.ts'
import { freshDb, testDriver } from '../helpers/db.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20091116)
const BATCHED = Number(process.env.FUZZ_BATCHED ?? 10_000)
const SINGLE = Number(process.env.FUZZ_SINGLE ?? 400)
const BATCH_LINES = 400
const BATCH_BYTES = 3 * 1024 * 1024

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(SEED)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1))

const PATHS = [
  'data_format_version',
  'measurement_uid',
  'measurement_start_time',
  'test_start_time',
  'probe_cc',
  'probe_asn',
  'probe_id',
  'probe_region',
  'probe_ip',
  'probe_network_name',
  'report_id',
  'input',
  'test_name',
  'test_version',
  'test_runtime',
  'resolver_ip',
  'software_name',
  'software_version',
  'annotations',
  'test_keys',
  'test_keys.blocking',
  'test_keys.accessible',
  'test_keys.requests',
  'test_keys.queries',
  'test_keys.domain',
  'annotations.category_code',
  'category_code'
] as const
const WEIRD: unknown[] = [
  null,
  0,
  -1,
  1.5,
  true,
  false,
  '',
  [],
  {},
  [1, 'a', null],
  { a: { b: 1 } },
  'A'.repeat(300),
  '0',
  'null',
  '<script>alert(1)</script>',
  "'; DROP TABLE measurements; --",
  '../../etc/passwd',
  '%00',
  '${jndi:ldap://x}',
  'AS',
  'AS99999999999',
  'ir',
  'IRN',
  'XX-',
  'IR-1234',
  'dns',
  'http-diff',
  'blocked',
  -0,
  1e21,
  2 ** 53 + 1
]
const RAW_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '18446744073709551616',
  '-9223372036854775809',
  '123456789012345678901234567890',
  '0.0000000000000000000001',
  '-0',
  '1E+2',
  '2.5e-308',
  '9007199254740993'
]
const STRINGS = [
  '\ud800',
  'a\udfffb',
  '\u202eevil\u202c',
  '😀'.repeat(50),
  '\ufeffbom',
  'zero\u200bwidth',
  '\u0085\u2028\u2029',
  'ümlaut ß',
  '日本語',
  'x\ty',
  '"quoted"',
  '\\\\backslash',
  '\u001f\u0007'
]
const DATES = [
  '0000-01-01 00:00:00',
  '0001-01-01 00:00:00',
  '1969-12-31 23:59:59',
  '2012-02-30 00:00:00',
  '2024-13-01 00:00:00',
  '2024-01-01 24:00:00',
  '2024-01-01 23:59:60',
  '9999-12-31 23:59:59',
  '2024-01-01T00:00:00Z',
  '2024-01-01 00:00:00.000',
  '+275760-09-13 00:00:00',
  '2024-02-29 12:00:00',
  ' 2024-01-01 00:00:00',
  '2024-01-01 00:00:00\n'
]
const TEST_NAMES = ['', 'WEB_CONNECTIVITY', 'web_connectivity ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(65), 'tor', 'dnscheck']
const UIDS = ['', ' ', 'a'.repeat(128), 'a'.repeat(129), '../../x', 'uid/with/slashes', '%00', 'ünï', '__proto__', 'constructor']
const PROTO_KEYS = [
  '"__proto__":{"polluted":"yes"}',
  '"__proto__":null',
  '"__proto__":"str"',
  '"__proto__":[1]',
  '"constructor":{"prototype":{"polluted":"yes"}}',
  '"constructor":"x"',
  '"prototype":{"polluted":"yes"}',
  '"hasOwnProperty":1',
  '"toString":{}',
  '"valueOf":null',
  '"toJSON":"x"',
  '"__defineGetter__":1'
]
const INVALID_UTF8: number[][] = [[0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]

/** One generated upload line: its bytes and the kind of mutation. */
interface Case {
  kind: string
  bytes: Buffer
}

let uidCounter = 0
const usedUids: string[] = []
function baseDoc(probeId: string): Record<string, unknown> {
  const uid = `fz-${SEED}-${uidCounter++}`
  usedUids.push(uid)
  return sampleMeasurement(probeId, {
    measurement_uid: uid,
    measurement_start_time: formatOoniTime(Date.now() - 7200_000),
    input: `https://site-${int(0, 30)}.example/`,
    test_keys: { blocking: pick([false, 'dns', null]), accessible: pick([true, false, null]), requests: [{ request: { url: 'https://x.example/' }, response: { code: 200, body: 'hello' } }] }
  })
}

function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let o: Record<string, unknown> = doc
  for (const p of parts.slice(0, -1)) {
    if (o[p] === null || typeof o[p] !== 'object' || Array.isArray(o[p])) o[p] = {}
    o = o[p] as Record<string, unknown>
  }
  Object.defineProperty(o, parts[parts.length - 1], { value, enumerable: true, writable: true, configurable: true })
}
function deletePath(doc: Record<string, unknown>, path: string): void {
  const parts = path.split('.')
  let o: unknown = doc
  for (const p of parts.slice(0, -1)) o = (o as Record<string, unknown> | null)?.[p]
  if (o !== null && typeof o === 'object') delete (o as Record<string, unknown>)[parts[parts.length - 1]]
}

const PLACEHOLDER = '"@@RAW@@"'
/** Serialises a document with one value replaced by raw JSON text. */
const withRaw = (doc: Record<string, unknown>, path: string, raw: string): string => {
  setPath(doc, path, '@@RAW@@')
  return JSON.stringify(doc).replace(PLACEHOLDER, () => raw)
}
/** Inserts `member` ("key":value) into the object at `where` (top level, test_keys or annotations), first or last. */
function insertMember(text: string, where: 'top' | 'test_keys' | 'annotations', member: string, last: boolean): string {
  if (where === 'top') return last ? text.slice(0, -1) + ',' + member + '}' : '{' + member + ',' + text.slice(1)
  const key = `"${where}":{`
  const at = text.indexOf(key)
  if (at === -1) return '{' + member + ',' + text.slice(1)
  const open = at + key.length
  const empty = text[open] === '}'
  return text.slice(0, open) + member + (empty ? '' : ',') + text.slice(open)
}

type Mutator = (probeId: string) => Case
const MUTATORS: Array<[string, number, Mutator]> = [
  [
    'wrong_type',
    14,
    p => {
      const d = baseDoc(p)
      setPath(d, pick(PATHS), pick(WEIRD))
      return { kind: 'wrong_type', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  [
    'missing_field',
    5,
    p => {
      const d = baseDoc(p)
      deletePath(d, pick(PATHS))
      return { kind: 'missing_field', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  [
    'huge_string',
    3,
    p => {
      const d = baseDoc(p)
      const size = rand() < 0.9 ? int(1_000, 64_000) : int(100_000, 400_000)
      setPath(d, pick(PATHS), pick(['x', 'é', '😀', '\\', '"']).repeat(size))
      return { kind: 'huge_string', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  [
    'deep_nesting',
    4,
    p => {
      const d = baseDoc(p)
      const depth = pick([10, 60, 200, 1000, 10_000, 100_000])
      const [o, c] = pick([
        ['[', ']'],
        ['{"a":', '}']
      ])
      return { kind: 'deep_nesting', bytes: Buffer.from(withRaw(d, pick(['test_keys.deep', 'annotations.deep', 'extra', 'test_keys']), o.repeat(depth) + '1' + c.repeat(depth))) }
    }
  ],
  [
    'nul_byte',
    5,
    p => {
      const d = baseDoc(p)
      const path = pick(['input', 'report_id', 'probe_id', 'test_keys.requests', 'annotations.note', 'test_version', 'extra'])
      setPath(d, path, pick(['a\u0000b', '\u0000', 'x'.repeat(10) + '\u0000']))
      return { kind: 'nul_byte', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  [
    'number_range',
    7,
    p => {
      const d = baseDoc(p)
      return { kind: 'number_range', bytes: Buffer.from(withRaw(d, pick(['test_runtime', 'test_keys.accessible', 'test_keys.x', 'annotations.n', 'probe_asn', 'extra']), pick(RAW_NUMBERS))) }
    }
  ],
  [
    'duplicate_key',
    8,
    p => {
      const d = baseDoc(p)
      const key = pick(['probe_cc', 'probe_id', 'measurement_uid', 'test_name', 'probe_asn', 'test_keys', 'input', 'probe_ip'])
      const value = pick<unknown>(['XX', 'someone-else', usedUids[int(0, usedUids.length - 1)], 'tor', 'AS1', null, 1, { blocking: 'dns', accessible: false }, '10.9.8.7'])
      const text = insertMember(JSON.stringify(d), pick(['top', 'top', 'test_keys']), `${JSON.stringify(key)}:${JSON.stringify(value)}`, rand() < 0.5)
      return { kind: 'duplicate_key', bytes: Buffer.from(text) }
    }
  ],
  [
    'proto_key',
    10,
    p => {
      const d = baseDoc(p)
      let text = JSON.stringify(d)
      for (let i = int(1, 3); i > 0; i--) text = insertMember(text, pick(['top', 'test_keys', 'annotations']), pick(PROTO_KEYS), rand() < 0.5)
      return { kind: 'proto_key', bytes: Buffer.from(text) }
    }
  ],
  [
    'unicode',
    6,
    p => {
      const d = baseDoc(p)
      setPath(d, pick(PATHS), pick(STRINGS))
      return { kind: 'unicode', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  [
    'invalid_utf8',
    6,
    p => {
      const d = baseDoc(p)
      const text = withRaw(d, pick(['input', 'report_id', 'test_keys.body', 'annotations.note', 'probe_id', 'test_version']), '"@@BYTES@@"')
      const [before, after] = text.split('@@BYTES@@')
      return { kind: 'invalid_utf8', bytes: Buffer.concat([Buffer.from(before), Buffer.from(pick(INVALID_UTF8)), Buffer.from(after)]) }
    }
  ],
  [
    'date',
    5,
    p => {
      const d = baseDoc(p)
      setPath(d, pick(['measurement_start_time', 'test_start_time']), pick(DATES))
      return { kind: 'date', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  [
    'uid',
    5,
    p => {
      const d = baseDoc(p)
      d.measurement_uid = rand() < 0.4 ? usedUids[int(0, usedUids.length - 1)] : pick(UIDS)
      if (rand() < 0.2) delete d.measurement_uid
      return { kind: 'uid', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  [
    'test_name',
    3,
    p => {
      const d = baseDoc(p)
      d.test_name = pick(TEST_NAMES)
      return { kind: 'test_name', bytes: Buffer.from(JSON.stringify(d)) }
    }
  ],
  ['not_object', 2, () => ({ kind: 'not_object', bytes: Buffer.from(pick(['[]', 'null', '1', '"str"', 'true', '[{}]', '{}', '-', '1e999'])) })],
  [
    'truncated',
    4,
    p => {
      const s = JSON.stringify(baseDoc(p))
      return { kind: 'truncated', bytes: Buffer.from(s.slice(0, int(1, s.length - 1))) }
    }
  ],
  [
    'garbage',
    2,
    () => {
      const b = Buffer.alloc(int(1, 200))
      for (let i = 0; i < b.length; i++) {
        let v = int(0, 255)
        if (v === 0x0a || v === 0x0d) v = 0x41
        b[i] = v
      }
      b[0] = 0x7b // never blank after trimming
      return { kind: 'garbage', bytes: b }
    }
  ],
  [
    'combo',
    6,
    p => {
      const d = baseDoc(p)
      for (let i = int(2, 4); i > 0; i--) {
        const r = rand()
        if (r < 0.4) setPath(d, pick(PATHS), pick(WEIRD))
        else if (r < 0.6) setPath(d, pick(PATHS), pick(STRINGS))
        else if (r < 0.8) deletePath(d, pick(PATHS))
        else setPath(d, 'annotations.x', pick(WEIRD))
      }
      let text = JSON.stringify(d)
      if (rand() < 0.5) text = insertMember(text, 'top', pick(PROTO_KEYS), rand() < 0.5)
      return { kind: 'combo', bytes: Buffer.from(text) }
    }
  ],
  ['valid', 5, p => ({ kind: 'valid', bytes: Buffer.from(JSON.stringify(baseDoc(p))) })]
]
const TOTAL_WEIGHT = MUTATORS.reduce((a, m) => a + m[1], 0)
function generate(probeId: string): Case {
  let r = rand() * TOTAL_WEIGHT
  for (const [, w, f] of MUTATORS) {
    r -= w
    if (r < 0) return f(probeId)
  }
  return MUTATORS[0][2](probeId)
}

/**
 * What a document that was stored must look like: the parsed upload,
 * probe_ip scrubbed, its uid set; and its deduplication key, the uid with
 * the measurement's time (migration 0104).
 */
function expectedStored(parsed: Record<string, unknown>): { key: string; json: string } {
  const scrubbed: Record<string, unknown> = { ...parsed, probe_ip: SCRUBBED_PROBE_IP }
  const uid = typeof parsed.measurement_uid === 'string' && parsed.measurement_uid !== '' ? parsed.measurement_uid : contentUid(scrubbed)
  scrubbed.measurement_uid = uid
  return { key: dedupKey(uid, parseOoniTime(String(parsed.measurement_start_time))), json: canonical(JSON.parse(JSON.stringify(scrubbed))) }
}

/** A stored row's deduplication key: uid and time. */
const dedupKey = (uid: string, time: Date | string | null): string => `${uid}\u0000${time === null ? '' : new Date(time).toISOString()}`
/** Key-order-free serialisation, iterative so that deep documents do not overflow the stack. */
function canonical(v: unknown): string {
  const out: string[] = []
  const stack: unknown[] = [v]
  const CLOSE = Symbol('close')
  while (stack.length > 0) {
    const x = stack.pop()
    if (typeof x === 'object' && x !== null && (x as { [CLOSE]?: string })[CLOSE] !== undefined) {
      out.push((x as { [CLOSE]: string })[CLOSE])
      continue
    }
    if (typeof x === 'string' && x.startsWith('\u0001K')) {
      out.push(x.slice(2))
      continue
    }
    if (x === null || typeof x !== 'object') {
      out.push(JSON.stringify(x) ?? 'null', ',')
      continue
    }
    if (Array.isArray(x)) {
      out.push('[')
      stack.push({ [CLOSE]: '],' })
      for (let i = x.length - 1; i >= 0; i--) stack.push(x[i])
    } else {
      out.push('{')
      stack.push({ [CLOSE]: '},' })
      const keys = Object.keys(x).sort().reverse()
      for (const k of keys) {
        stack.push((x as Record<string, unknown>)[k])
        stack.push('\u0001K' + JSON.stringify(k) + ':')
      }
    }
  }
  return out.join('')
}

t.test(`ingest fuzzing on ${testDriver()}: ${BATCHED} batched + ${SINGLE} single mutations, 4xx or stored intact`, async t => {
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort().join(',')
  const started = Date.now()
  const tdb = await freshDb()
  t.teardown(async () => {
    await tdb.close()
  })
  const app = await build({ db: tdb.db, publicUrl: 'https://bw.example.org', fingerprints: await ooniFingerprints(), jobs: false, rateLimits: { ingest: { max: 1_000_000, timeWindow: '1 minute' } } })
  t.teardown(async () => {
    await app.close()
  })
  const causes = new Map<string, number>()
  app.addHook('onError', async (_req, _reply, err) => {
    if (toErrorBody(err).body.statusCode < 500) return
    const k = `${(err as { code?: string }).code ?? err.name}: ${err.message.slice(0, 120)}`
    causes.set(k, (causes.get(k) ?? 0) + 1)
  })
  await app.ready()
  const { probe_id: probeId, token } = await registerProbe(app)
  const auth = { authorization: `Bearer ${token}` }
  const phases: string[] = [`setup ${((Date.now() - started) / 1000).toFixed(1)} s`]
  let phaseStart = Date.now()
  const phase = (name: string): void => {
    phases.push(`${name} ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`)
    phaseStart = Date.now()
  }

  const counts = new Map<string, { cases: number; stored: number; duplicate: number; refused: number; requestRefused: number }>()
  const bump = (kind: string, what: 'cases' | 'stored' | 'duplicate' | 'refused' | 'requestRefused', n = 1): void => {
    let c = counts.get(kind)
    if (c === undefined) {
      c = { cases: 0, stored: 0, duplicate: 0, refused: 0, requestRefused: 0 }
      counts.set(kind, c)
    }
    c[what] += n
  }
  const expected = new Map<string, string>() // dedup key (uid, time) → canonical stored document (first writer)
  const serverErrors: string[] = []
  const batchRefusals = new Map<string, number>()
  let injectMs = 0
  const statusCounts = new Map<number, number>()
  const count = (s: number): void => {
    statusCounts.set(s, (statusCounts.get(s) ?? 0) + 1)
  }

  /** Records what a stored (not refused) line should look like. */
  const remember = (bytes: Buffer, kind: string): void => {
    const parsed = JSON.parse(bytes.toString('utf8').trim()) as Record<string, unknown>
    const { key, json } = expectedStored(parsed)
    if (expected.has(key)) {
      bump(kind, 'duplicate')
      return
    }
    expected.set(key, json)
    bump(kind, 'stored')
  }

  const sendBatch = async (cases: Case[]): Promise<void> => {
    const body = Buffer.concat(cases.flatMap(c => [c.bytes, Buffer.from('\n')]))
    const gzip = rand() < 0.3
    const t0 = Date.now()
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/measurements',
      headers: { ...auth, 'content-type': 'application/x-ndjson', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
      payload: gzip ? gzipSync(body) : body
    })
    injectMs += Date.now() - t0
    count(r.statusCode)
    if (r.statusCode >= 500) {
      serverErrors.push(`batch: ${r.statusCode} ${r.body.slice(0, 300)}`)
      return
    }
    if (r.statusCode >= 400) {
      batchRefusals.set(r.json().message.slice(0, 100), (batchRefusals.get(r.json().message.slice(0, 100)) ?? 0) + 1)
      for (const c of cases) {
        bump(c.kind, 'cases')
        bump(c.kind, 'requestRefused')
      }
      return
    }
    const reply = r.json() as { accepted: number; duplicates: number; rejected: Array<{ index: number }> }
    const refused = new Set(reply.rejected.map(x => x.index))
    cases.forEach((c, i) => {
      bump(c.kind, 'cases')
      if (refused.has(i)) bump(c.kind, 'refused')
      else remember(c.bytes, c.kind)
    })
  }

  // Batched: NDJSON, many mutations a request.
  let batch: Case[] = []
  let bytes = 0
  for (let i = 0; i < BATCHED; i++) {
    const c = generate(probeId)
    if (batch.length > 0 && (batch.length >= BATCH_LINES || bytes + c.bytes.length > BATCH_BYTES)) {
      await sendBatch(batch)
      batch = []
      bytes = 0
    }
    batch.push(c)
    bytes += c.bytes.length + 1
  }
  if (batch.length > 0) await sendBatch(batch)
  phase('batched')

  // Single raw bodies: whole-request oddities (invalid UTF-8 anywhere,
  // duplicate keys, a BOM, odd content types and encodings).
  const singleKinds: Array<[string, () => { body: Buffer; headers: Record<string, string>; doc?: Case }]> = [
    [
      'raw_array_one',
      () => {
        const c = generate(probeId)
        return { body: Buffer.concat([Buffer.from('['), c.bytes, Buffer.from(']')]), headers: { 'content-type': 'application/json' }, doc: c }
      }
    ],
    [
      'raw_invalid_utf8',
      () => {
        const b = Buffer.from(JSON.stringify([baseDoc(probeId)]))
        const at = int(1, b.length - 2)
        return { body: Buffer.concat([b.subarray(0, at), Buffer.from(pick(INVALID_UTF8)), b.subarray(at)]), headers: { 'content-type': 'application/json' } }
      }
    ],
    ['raw_bom', () => ({ body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify([baseDoc(probeId)]))]), headers: { 'content-type': 'application/json' } })],
    ['raw_dup_top', () => ({ body: Buffer.from(`{"a":1,"a":2,${PROTO_KEYS[0]},${PROTO_KEYS[4]}}`), headers: { 'content-type': 'application/json' } })],
    ['raw_empty', () => ({ body: Buffer.from(pick(['', ' ', '\n\n', '[', ']', '[,]', '[1,]', '\u0000'])), headers: { 'content-type': 'application/json' } })],
    [
      'raw_content_type',
      () => ({
        body: Buffer.from(JSON.stringify([baseDoc(probeId)])),
        headers: { 'content-type': pick(['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '', 'x/y; a="']) }
      })
    ],
    [
      'raw_encoding',
      () => ({
        body: Buffer.from(JSON.stringify([baseDoc(probeId)])),
        headers: { 'content-type': 'application/json', 'content-encoding': pick(['br', 'deflate', 'gzip, gzip', 'GZIP', 'x-gzip', 'identity', 'compress', 'gzip;q=1']) }
      })
    ],
    [
      'raw_gzip_corrupt',
      () => {
        const g = gzipSync(JSON.stringify([baseDoc(probeId)]))
        g[int(10, g.length - 1)] ^= 0xff
        return { body: g, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }
      }
    ],
    [
      'raw_gzip_truncated',
      () => {
        const g = gzipSync(JSON.stringify([baseDoc(probeId)]))
        return { body: g.subarray(0, int(1, g.length - 1)), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }
      }
    ]
  ]
  for (let i = 0; i < SINGLE; i++) {
    const [kind, make] = pick(singleKinds)
    const { body, headers, doc } = make()
    const r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { ...auth, ...headers }, payload: body })
    count(r.statusCode)
    bump(kind, 'cases')
    if (r.statusCode >= 500) {
      serverErrors.push(`${kind}: ${r.statusCode} ${r.body.slice(0, 300)}`)
      continue
    }
    if (r.statusCode >= 400) {
      bump(kind, 'requestRefused')
      continue
    }
    const reply = r.json() as { accepted: number; duplicates: number; rejected: Array<{ index: number }> }
    if (reply.rejected.length > 0) {
      bump(kind, 'refused', reply.rejected.length)
      continue
    }
    // Accepted: find out what the server parsed, the way it parses.
    const text = body.toString('utf8').replace(/^\ufeff/, '')
    let parsed: unknown
    try {
      parsed = JSON.parse(doc !== undefined ? doc.bytes.toString('utf8') : text)
    } catch {
      parsed = undefined
    }
    const docs = Array.isArray(parsed) ? parsed : parsed !== undefined ? [parsed] : []
    for (const d of docs) remember(Buffer.from(JSON.stringify(d)), kind)
  }

  phase('single')
  const total = [...counts.values()].reduce((a, c) => a + c.cases, 0)
  t.ok(total >= BATCHED, `at least 10,000 mutations (${total})`)
  t.same(serverErrors.slice(0, 5), [], 'no 5xx')
  t.same(Object.fromEntries(causes), {}, 'no internal error')
  t.same(Object.fromEntries(batchRefusals), {}, 'one bad document never refuses a whole batch')

  // Nothing polluted, the server still serves, and a valid upload still works.
  t.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(','), protoBefore, 'Object.prototype untouched')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no polluted property')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'still serving')
  const after = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: auth, payload: [sampleMeasurement(probeId)] })
  t.same(after.json(), { accepted: 1, duplicates: 0, rejected: [] }, 'a valid upload is still accepted')

  // Stored intact: every stored document is exactly what was sent (probe_ip scrubbed), and nothing else is stored.
  const uids = await tdb.db.query<{ n: number }>('SELECT count(DISTINCT (measurement_start_time, measurement_uid))::int AS n FROM measurements')
  const rows = await tdb.db.query<{ measurement_uid: string; measurement_start_time: Date | string; doc: unknown }>('SELECT measurement_uid, measurement_start_time, doc FROM measurements')
  t.equal(rows.rows.length, expected.size + 1, 'one row per accepted document')
  t.equal(uids.rows[0].n, rows.rows.length, 'one row per dedup key (time, uid)')
  const storedSet = new Set(rows.rows.map(r => dedupKey(r.measurement_uid, r.measurement_start_time)))
  const notStored = [...expected.keys()].filter(u => !storedSet.has(u))
  t.same(
    notStored.slice(0, 5).map(u => [u, expected.get(u)?.slice(0, 300)]),
    [],
    'every accepted document is stored'
  )
  let intact = 0
  const corrupted: string[] = []
  for (const r of rows.rows) {
    const want = expected.get(dedupKey(r.measurement_uid, r.measurement_start_time))
    if (want === undefined) continue
    if (canonical(typeof r.doc === 'string' ? JSON.parse(r.doc) : r.doc) === want) intact++
    else corrupted.push(r.measurement_uid)
  }
  t.equal(intact, expected.size, 'every stored document intact')
  t.same(corrupted.slice(0, 5), [], 'no corrupted document')

  phase('verify')
  const lines = [...counts]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(
      ([k, c]) =>
        `  ${k.padEnd(18)} ${String(c.cases).padStart(6)} cases: ${String(c.stored).padStart(5)} stored intact, ${String(c.duplicate).padStart(4)} duplicates, ${String(c.refused).padStart(5)} refused (document), ${String(c.requestRefused).padStart(4)} refused (request)`
    )
  const sum = (f: 'stored' | 'duplicate' | 'refused' | 'requestRefused'): number => [...counts.values()].reduce((a, c) => a + c[f], 0)
  t.comment(
    `ingest fuzz (seed ${SEED}, ${testDriver()}): ${total} mutations in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `${sum('stored')} stored intact, ${sum('duplicate')} duplicates, ${sum('refused')} refused per document, ${sum('requestRefused')} refused per request; ` +
      `phases: ${phases.join(', ')} (${(injectMs / 1000).toFixed(1)} s in batched requests); HTTP statuses ${JSON.stringify(Object.fromEntries(statusCounts))}; 5xx: ${serverErrors.length}\n${lines.join('\n')}`
  )
})
