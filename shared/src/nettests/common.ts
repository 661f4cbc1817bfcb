/**
 * The parts every blockwatch test's test_keys share, as TypeBox schemas
 * built by the first call of `commonSchemas()` (a kind's schema builder
 * calls it; ../typebox.ts says why nothing is built when the module loads):
 * OONI's data formats for DNS queries (df-002-dnst), TCP connects
 * (df-005-tcpconnect), TLS handshakes (df-006-tlshandshake) and HTTP
 * requests (df-001-httpt), plus the verdict keys. Fields we add start with
 * `x_`. Objects stay open (additionalProperties), so a newer probe's fields
 * pass through.
 */
import type { TSchema } from '@sinclair/typebox'
import { Type, lazy } from '../typebox.ts'
import { BlockingValue } from '../measurement.ts'

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** The shared parts, built once at the first call. */
export const commonSchemas = lazy(() => {
  const open = { additionalProperties: true }

  // An OONI failure string, or null.
  const FailureString = Nullable(Type.String())

  const DnsAnswer = Type.Object(
    {
      answer_type: Type.String(),
      ipv4: Type.Optional(Type.String()),
      ipv6: Type.Optional(Type.String()),
      hostname: Type.Optional(Type.String()),
      ttl: Type.Optional(Nullable(Type.Number()))
    },
    open
  )

  const DnsQuery = Type.Object(
    {
      engine: Type.String({ description: 'system, udp, tcp or doh' }),
      resolver_address: Type.String(),
      hostname: Type.String(),
      query_type: Type.String(),
      answers: Nullable(Type.Array(DnsAnswer)),
      failure: FailureString,
      t: Type.Number({ description: 'seconds since the test started' }),
      x_duplicate_replies: Type.Optional(Type.Array(Type.Object({ answers: Nullable(Type.Array(DnsAnswer)), failure: FailureString, t: Type.Number() }, open))),
      x_tcp_fallback: Type.Optional(Type.Boolean())
    },
    open
  )

  const TcpConnect = Type.Object(
    {
      ip: Type.String(),
      port: Type.Integer(),
      status: Type.Object({ success: Type.Boolean(), failure: FailureString, blocked: Nullable(Type.Boolean()) }, open),
      t: Type.Number()
    },
    open
  )

  const TlsHandshake = Type.Object(
    {
      address: Type.String(),
      server_name: Type.String(),
      failure: FailureString,
      tls_version: Nullable(Type.String()),
      cipher_suite: Nullable(Type.String()),
      negotiated_protocol: Nullable(Type.String()),
      no_tls_verify: Type.Boolean(),
      t: Type.Number()
    },
    open
  )

  /**
   * A follow-up TLS handshake to the address of a cut one (issue 15;
   * probe/src/nettests/sni-followup.ts): x_sni_followup without SNI,
   * x_sni_followup_name with another name from the probe's own list.
   */
  const SniFollowup = Type.Object(
    {
      address: Type.String(),
      server_name: Nullable(Type.String()),
      name_source: Type.Optional(Type.Union([Type.Literal('tls_ok'), Type.Literal('list')])),
      operation: Type.Union([Type.Literal('connect'), Type.Literal('tls_handshake')]),
      failure: FailureString,
      t: Type.Number()
    },
    open
  )

  const Body = Nullable(Type.Union([Type.String(), Type.Object({ format: Type.Literal('base64'), data: Type.String() })]))

  const HttpRequest = Type.Object(
    {
      request: Type.Object({ url: Type.String(), method: Type.String(), headers: Type.Record(Type.String(), Type.String()), x_address: Nullable(Type.String()) }, open),
      response: Nullable(
        Type.Object(
          {
            code: Type.Integer(),
            headers: Type.Record(Type.String(), Type.String()),
            headers_list: Type.Array(Type.Tuple([Type.String(), Type.String()])),
            body: Body,
            body_is_truncated: Type.Boolean(),
            x_body_length: Type.Integer()
          },
          open
        )
      ),
      failure: FailureString,
      x_failed_operation: Nullable(Type.String()),
      x_throughput_bps: Nullable(Type.Number()),
      t: Type.Number()
    },
    open
  )

  const FingerprintMatch = Type.Object(
    {
      name: Type.String(),
      scope: Type.String(),
      location_found: Type.String(),
      expected_countries: Type.Array(Type.String())
    },
    open
  )

  // The verdict keys every blockwatch test_keys carries once judged.
  const Verdict = {
    blocking: BlockingValue(),
    accessible: Nullable(Type.Boolean()),
    fingerprints: Type.Array(FingerprintMatch),
    verdict_reason: Nullable(Type.String()),
    verdict_failure: FailureString
  }

  // The control vantage's answer (OONI test-helper shape, open) and its failure.
  const ControlKeys = {
    control: Type.Object({}, open),
    control_failure: FailureString
  }

  // The keys of the step-by-step kinds (tcp_connect, tls_handshake, sms_gateway).
  const StepKeys = {
    host: Type.String(),
    port: Type.Integer(),
    client_resolver: Type.String(),
    queries: Type.Array(DnsQuery),
    dns_experiment_failure: FailureString,
    tcp_connect: Type.Array(TcpConnect)
  }
  return { FailureString, DnsAnswer, DnsQuery, TcpConnect, TlsHandshake, SniFollowup, HttpRequest, FingerprintMatch, Verdict, ControlKeys, StepKeys }
})
