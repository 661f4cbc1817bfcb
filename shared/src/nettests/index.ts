/**
 * The test_keys schema of each blockwatch test, written once with TypeBox;
 * the TypeScript types derive from them. `validateTestKeys` checks a
 * document of ours (software_name "blockwatch"); OONI's documents of the
 * same test names have other shapes and are not checked here.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { ControlKeys, DnsQuery, FailureString, HttpRequest, Nullable, SniFollowup, TcpConnect, TlsHandshake, Verdict } from './common.ts'

const open = { additionalProperties: true }

export const WebConnectivityKeys = Type.Object({
  client_resolver: Type.String(),
  queries: Type.Array(DnsQuery),
  dns_experiment_failure: FailureString,
  tcp_connect: Type.Array(TcpConnect),
  tls_handshakes: Type.Array(TlsHandshake),
  x_sni_followup: Type.Optional(SniFollowup),
  x_sni_followup_name: Type.Optional(SniFollowup),
  requests: Type.Array(HttpRequest, { description: 'the redirect chain, latest response first' }),
  http_experiment_failure: FailureString,
  x_failed_operation: Nullable(Type.String()),
  dns_consistency: Nullable(Type.Union([Type.Literal('consistent'), Type.Literal('inconsistent')])),
  body_length_match: Nullable(Type.Boolean()),
  body_proportion: Nullable(Type.Number()),
  status_code_match: Nullable(Type.Boolean()),
  headers_match: Nullable(Type.Boolean()),
  title_match: Nullable(Type.Boolean()),
  ...ControlKeys,
  ...Verdict
}, { ...open, $id: 'WebConnectivityKeys' })
export type WebConnectivityKeys = Static<typeof WebConnectivityKeys>

export const DnsConsistencyKeys = Type.Object({
  hostname: Type.String(),
  client_resolver: Type.String(),
  queries: Type.Array(DnsQuery),
  dns_experiment_failure: FailureString,
  injection_detected: Type.Boolean(),
  ...ControlKeys,
  ...Verdict
}, { ...open, $id: 'DnsConsistencyKeys' })
export type DnsConsistencyKeys = Static<typeof DnsConsistencyKeys>

const StepKeys = {
  host: Type.String(),
  port: Type.Integer(),
  client_resolver: Type.String(),
  queries: Type.Array(DnsQuery),
  dns_experiment_failure: FailureString,
  tcp_connect: Type.Array(TcpConnect)
}

export const TcpConnectKeys = Type.Object({ ...StepKeys, ...ControlKeys, ...Verdict }, { ...open, $id: 'TcpConnectKeys' })
export type TcpConnectKeys = Static<typeof TcpConnectKeys>

export const TlsHandshakeKeys = Type.Object({
  ...StepKeys,
  server_name: Type.String(),
  tls_handshakes: Type.Array(TlsHandshake),
  x_sni_followup: Type.Optional(SniFollowup),
  x_sni_followup_name: Type.Optional(SniFollowup),
  ...ControlKeys,
  ...Verdict
}, { ...open, $id: 'TlsHandshakeKeys' })
export type TlsHandshakeKeys = Static<typeof TlsHandshakeKeys>

const SmppStep = Type.Object({ command: Type.String(), command_status: Nullable(Type.Integer()), failure: FailureString, t: Type.Number(), address: Type.String() }, open)

export const SmsGatewayKeys = Type.Union([
  Type.Object({
    kind: Type.Literal('smpp'),
    ...StepKeys,
    smpp: Type.Object({ system_id: Type.String(), bind_replied: Type.Boolean(), failure: FailureString, steps: Type.Array(SmppStep) }, open),
    ...ControlKeys,
    ...Verdict
  }, open),
  Type.Object({
    kind: Type.Literal('http_api'),
    ...StepKeys,
    tls_handshakes: Type.Array(TlsHandshake),
    requests: Type.Array(HttpRequest),
    http_experiment_failure: FailureString,
    ...ControlKeys,
    ...Verdict
  }, open)
], { $id: 'SmsGatewayKeys' })
export type SmsGatewayKeys = Static<typeof SmsGatewayKeys>

/** Each of our tests' test_keys schema, by test name. */
export const TEST_KEYS_SCHEMAS = Object.freeze({
  web_connectivity: WebConnectivityKeys,
  dns_consistency: DnsConsistencyKeys,
  tcp_connect: TcpConnectKeys,
  tls_handshake: TlsHandshakeKeys,
  sms_gateway: SmsGatewayKeys
})

const checkers = new Map<string, TypeCheck<TSchema>>()

/**
 * Validates the test_keys of one of our tests. Returns the problems (at most
 * five, "field: message"), or an empty array; null for a test name we have
 * no schema for.
 */
export function validateTestKeys (testName: string, testKeys: unknown): string[] | null {
  const schema = (TEST_KEYS_SCHEMAS as Record<string, TSchema>)[testName]
  if (schema === undefined) return null
  let c = checkers.get(testName)
  if (c === undefined) {
    c = TypeCompiler.Compile(schema)
    checkers.set(testName, c)
  }
  if (c.Check(testKeys)) return []
  const out: string[] = []
  for (const e of c.Errors(testKeys)) {
    out.push(`${e.path.replace(/^\//, '') || 'test_keys'}: ${e.message}`)
    if (out.length >= 5) break
  }
  return out
}
