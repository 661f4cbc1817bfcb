/**
 * The measurement model shared by probe and aggregator: OONI's base data
 * format (ooni/spec, data-formats/df-000-base.md, data_format_version 0.2.0)
 * plus blockwatch's own fields (measurement_uid, probe_id, probe_region).
 *
 * The JSON Schema is written once, with TypeBox, and the TypeScript types are
 * derived from it (`Static<…>`), never written a second time.
 * Unknown fields pass through: real OONI documents validate unchanged.
 * Each schema is built by its first call (`lazy`, ./typebox.ts): the probe
 * loads this module for its types and constants and never builds one.
 */
import type { Static, TSchema } from '@sinclair/typebox'
import type { TypeCheck } from '@sinclair/typebox/compiler'
import { Type, TypeCompiler, lazy } from './typebox.ts'
import { OONI_TIME_PATTERN } from './time.ts'
import { REGION_PATTERN } from './region.ts'

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const OoniTime = () => Type.String({ pattern: OONI_TIME_PATTERN, description: 'UTC, "YYYY-MM-DD HH:MM:SS"' })

/** OONI's nettests (ooni/spec, nettests/), accepted on ingest and import. */
export const OONI_TEST_NAMES = [
  'web_connectivity',
  'http_requests',
  'dns_consistency',
  'http_invalid_request_line',
  'http_header_field_manipulation',
  'http_host',
  'bridge_reachability',
  'tcp_connect',
  'multi_protocol_traceroute',
  'meek_fronted_requests_test',
  'lantern',
  'psiphon',
  'tor',
  'vanilla_tor',
  'torsf',
  'whatsapp',
  'facebook_messenger',
  'telegram',
  'signal',
  'ndt',
  'dash',
  'riseupvpn',
  'dnscheck',
  'dnsping',
  'urlgetter',
  'stun_reachability',
  'stunreachability',
  'tlsping',
  'tcpping',
  'quicping',
  'simplequicping',
  'tlstool',
  'tlsmiddlebox',
  'sni_blocking',
  'echcheck',
  'openvpn',
  'browser_web',
  'http3',
  'portfiltering',
  'run_ping',
  'example'
] as const

// The test names ingest accepts are these and the registered nettest kinds
// (isKnownTestName, shared/src/nettests/index.ts).

/**
 * OONI's verdict vocabulary, carried by every blockwatch test's test_keys.
 * `blocking`: false, the technique seen, or null when the test cannot tell.
 * `accessible`: true, false, or null when the test cannot tell.
 */
export const BlockingValue = lazy(() =>
  Type.Union([Type.Literal(false), Type.Literal('dns'), Type.Literal('tcp_ip'), Type.Literal('tls'), Type.Literal('http-failure'), Type.Literal('http-diff'), Type.Null()])
)
export type BlockingValue = Static<ReturnType<typeof BlockingValue>>

/** The verdict keys every blockwatch test_keys carries. */
export const VerdictKeys = lazy(() =>
  Type.Object(
    {
      blocking: BlockingValue(),
      accessible: Nullable(Type.Boolean())
    },
    { additionalProperties: true }
  )
)
export type VerdictKeys = Static<ReturnType<typeof VerdictKeys>>

/** Free-form test_keys of a test we do not know in detail (OONI's others). */
export const AnyTestKeys = lazy(() => Type.Object({}, { additionalProperties: true }))

/** The envelope of every measurement. */
export const Measurement = lazy(() =>
  Type.Object(
    {
      data_format_version: Type.String({ pattern: '^0\\.\\d+\\.\\d+$' }),
      measurement_uid: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
      measurement_start_time: OoniTime(),
      test_start_time: Type.Optional(OoniTime()),
      probe_cc: Type.String({ pattern: '^[A-Z]{2}$' }),
      probe_asn: Type.String({ pattern: '^AS\\d{1,10}$' }),
      probe_network_name: Type.Optional(Nullable(Type.String())),
      probe_ip: Type.Optional(Nullable(Type.String())),
      probe_id: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
      probe_region: Type.Optional(Nullable(Type.String({ pattern: REGION_PATTERN, description: 'ISO 3166-2 subdivision' }))),
      report_id: Type.Optional(Nullable(Type.String())),
      input: Type.Optional(Nullable(Type.String())),
      test_name: Type.String({ minLength: 1, maxLength: 64 }),
      test_version: Type.Optional(Type.String()),
      test_runtime: Type.Optional(Nullable(Type.Number())),
      resolver_ip: Type.Optional(Nullable(Type.String())),
      resolver_asn: Type.Optional(Nullable(Type.String())),
      resolver_network_name: Type.Optional(Nullable(Type.String())),
      software_name: Type.Optional(Type.String()),
      software_version: Type.Optional(Type.String()),
      annotations: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
      test_keys: Type.Optional(Nullable(AnyTestKeys()))
    },
    { additionalProperties: true, $id: 'Measurement' }
  )
)

/** A measurement document: the envelope, with test_keys left open. */
export type Measurement = Static<ReturnType<typeof Measurement>>

/** A measurement whose test_keys carry blockwatch's verdict keys. */
export type MeasurementOf<K> = Omit<Measurement, 'test_keys'> & { test_keys: K }

export { DATA_FORMAT_VERSION, SCRUBBED_PROBE_IP } from './measurement-constants.ts'

const checker = lazy((): TypeCheck<ReturnType<typeof Measurement>> => TypeCompiler.Compile(Measurement()))

/** One reason a document does not validate: where, and what is wrong. */
export interface ValidationIssue {
  /** The field, as a JSON pointer without the leading slash ("probe_cc", "test_keys/blocking"). */
  field: string
  message: string
}

/**
 * Validates a measurement's envelope. Returns the issues found, at most
 * `maxIssues` of them, or an empty array when the document is valid.
 */
export function validateMeasurement(doc: unknown, maxIssues = 5): ValidationIssue[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return [{ field: '', message: 'a measurement must be a JSON object' }]
  }
  const c = checker()
  if (c.Check(doc)) return []
  const issues: ValidationIssue[] = []
  for (const e of c.Errors(doc)) {
    const field = e.path.replace(/^\//, '')
    if (issues.some(i => i.field === field)) continue
    const value = e.value === undefined ? 'nothing' : JSON.stringify(e.value)?.slice(0, 60)
    issues.push({ field, message: `${field || 'document'}: ${e.message} (got ${value})` })
    if (issues.length >= maxIssues) break
  }
  return issues
}

/** The JSON Schema of the envelope, for /openapi.json and for docs. */
export const measurementJsonSchema = (): TSchema => Measurement()
