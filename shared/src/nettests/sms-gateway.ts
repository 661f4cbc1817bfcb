/**
 * sms_gateway: SMPP gateways (smpp://, a bind and no SMS) and HTTP SMS APIs
 * (smsapi+https://, a GET with no credentials and no message).
 */
import type { Static } from '@sinclair/typebox'
import { Type, lazy } from '../typebox.ts'
import { judgeSmsGateway, type SmsGatewayReason } from '../verdict/sms-gateway.ts'
import { commonSchemas, Nullable } from './common.ts'
import { defineNettest, type ControlPlan } from './kind.ts'
import { DNS_STEP_WORDS, OUTCOME_WORDS, TCP_STEP_WORDS, TLS_STEP_WORDS } from './words.ts'

export const SmsGatewayKeys = lazy(() => {
  const { ControlKeys, FailureString, HttpRequest, StepKeys, TlsHandshake, Verdict } = commonSchemas()
  const open = { additionalProperties: true }
  const SmppStep = Type.Object({ command: Type.String(), command_status: Nullable(Type.Integer()), failure: FailureString, t: Type.Number(), address: Type.String() }, open)

  return Type.Union(
    [
      Type.Object(
        {
          kind: Type.Literal('smpp'),
          ...StepKeys,
          smpp: Type.Object({ system_id: Type.String(), bind_replied: Type.Boolean(), failure: FailureString, steps: Type.Array(SmppStep) }, open),
          ...ControlKeys,
          ...Verdict
        },
        open
      ),
      Type.Object(
        {
          kind: Type.Literal('http_api'),
          ...StepKeys,
          tls_handshakes: Type.Array(TlsHandshake),
          requests: Type.Array(HttpRequest),
          http_experiment_failure: FailureString,
          ...ControlKeys,
          ...Verdict
        },
        open
      )
    ],
    { $id: 'SmsGatewayKeys' }
  )
})
export type SmsGatewayKeys = Static<ReturnType<typeof SmsGatewayKeys>>

const reasons: Record<SmsGatewayReason, string> = {
  ...DNS_STEP_WORDS,
  ...TCP_STEP_WORDS,
  ...TLS_STEP_WORDS,
  ...OUTCOME_WORDS,
  smpp_no_reply: 'the SMS gateway never answered',
  smpp_reset: 'the connection to the SMS gateway was reset',
  http_blockpage_fingerprint: 'the page (or a redirect) matched a known blockpage',
  http_failure: "the HTTP request failed while the control's worked",
  http_status_differs: "the HTTP status differs from the control's"
}

/** An HTTP SMS API: one GET of the URL without its "smsapi+", no redirect followed (one is an answer too). */
const smsApi = (tls: boolean): ControlPlan => ({
  defaultPort: tls ? 443 : 80,
  tcp: true,
  tls,
  http: { maxRedirects: 0, redirectIsAnswer: true, url: input => input.replace(/^smsapi\+/i, '') }
})

export default defineNettest({
  name: 'sms_gateway',
  version: '0.1.0',
  schemes: {
    'smpp:': { defaultPort: 2775, tcp: true, tls: false, smpp: true },
    'smsapi+https:': smsApi(true),
    'smsapi+http:': smsApi(false)
  },
  get testKeysSchema() {
    return SmsGatewayKeys()
  },
  judge: judgeSmsGateway,
  reasons
})
