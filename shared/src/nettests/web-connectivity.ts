/**
 * web_connectivity (ooni/spec, nettests/ts-017-web-connectivity.md) for
 * http:// and https:// targets: DNS, TCP, TLS, then a GET, each compared
 * with the control's same steps.
 */
import type { Static } from '@sinclair/typebox'
import { Type, lazy } from '../typebox.ts'
import { judgeWebConnectivity, type WebConnectivityReason } from '../verdict/web-connectivity.ts'
import type { Verdict as VerdictOf } from '../verdict/types.ts'
import { commonSchemas, Nullable } from './common.ts'
import { defineNettest, type ControlPlan } from './kind.ts'
import { DNS_STEP_WORDS, OUTCOME_WORDS, TCP_STEP_WORDS, TLS_WORDS } from './words.ts'
import { simulatedTestKeys } from './web-connectivity-sim.ts'

export const WebConnectivityKeys = lazy(() => {
  const { ControlKeys, DnsQuery, FailureString, HttpRequest, SniFollowup, TcpConnect, TlsHandshake, Verdict } = commonSchemas()
  return Type.Object(
    {
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
    },
    { additionalProperties: true, $id: 'WebConnectivityKeys' }
  )
})
export type WebConnectivityKeys = Static<ReturnType<typeof WebConnectivityKeys>>

const reasons: Record<WebConnectivityReason, string> = {
  ...DNS_STEP_WORDS,
  ...TCP_STEP_WORDS,
  ...TLS_WORDS,
  ...OUTCOME_WORDS,
  no_test_keys: 'the document has no test results',
  control_http_failed: "the control's HTTP request failed, so the page could not be compared",
  dns_different_addresses: "the DNS answer points to other networks than the control's",
  http_blockpage_fingerprint: 'the page (or a redirect) matched a known blockpage',
  http_diff: "the page differs from the control's",
  http_failure: "the HTTP request failed while the control's worked",
  http_reset: 'the HTTP connection was reset',
  http_timeout: 'the HTTP request timed out',
  probe_failure: 'the probe itself failed (a bug, not the network)',
  known_false_positive: 'a fingerprint matched, but it is a known false positive',
  throttled: 'the transfer was throttled'
}

const web = (defaultPort: number, tls: boolean): ControlPlan => ({
  defaultPort,
  tcp: true,
  tls,
  http: { maxRedirects: 10, redirectIsAnswer: false, url: input => new URL(input).href }
})

export default defineNettest({
  name: 'web_connectivity',
  version: '0.6.0',
  schemes: { 'http:': web(80, false), 'https:': web(443, true) },
  get testKeysSchema() {
    return WebConnectivityKeys()
  },
  judge: (doc, fp): VerdictOf<WebConnectivityReason> => judgeWebConnectivity(doc, fp).verdict,
  reasons,
  // The simulator writes documents as OONI's probe 0.5.0 would.
  simulate: { testVersion: '0.5.0', testKeys: simulatedTestKeys }
})
