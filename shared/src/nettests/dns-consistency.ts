/** dns_consistency (dns://name): the system resolver and a list of others, against the control's answer. */
import type { Static } from '@sinclair/typebox'
import { Type, lazy } from '../typebox.ts'
import { judgeDnsConsistency, type DnsConsistencyReason } from '../verdict/dns-consistency.ts'
import { commonSchemas } from './common.ts'
import { defineNettest } from './kind.ts'
import { DNS_STEP_WORDS, OUTCOME_WORDS } from './words.ts'

export const DnsConsistencyKeys = lazy(() => {
  const { ControlKeys, DnsQuery, FailureString, Verdict } = commonSchemas()
  return Type.Object(
    {
      hostname: Type.String(),
      client_resolver: Type.String(),
      queries: Type.Array(DnsQuery),
      dns_experiment_failure: FailureString,
      injection_detected: Type.Boolean(),
      ...ControlKeys,
      ...Verdict
    },
    { additionalProperties: true, $id: 'DnsConsistencyKeys' }
  )
})
export type DnsConsistencyKeys = Static<ReturnType<typeof DnsConsistencyKeys>>

const reasons: Record<DnsConsistencyReason, string> = {
  ...DNS_STEP_WORDS,
  ...OUTCOME_WORDS,
  dns_injection: 'forged DNS answers were injected',
  dns_different_addresses: "the DNS answer points to other networks than the control's",
  control_no_answer: 'the control gave no answer',
  ok_cdn: "the addresses differ from the control's but belong to the same network (a CDN), and the page matched"
}

export default defineNettest({
  name: 'dns_consistency',
  version: '0.1.0',
  schemes: { 'dns:': { defaultPort: 53, tcp: false, tls: false } },
  get testKeysSchema() {
    return DnsConsistencyKeys()
  },
  judge: judgeDnsConsistency,
  reasons
})
