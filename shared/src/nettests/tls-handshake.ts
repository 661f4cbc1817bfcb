/** tls_handshake (tls://host:port): resolve, connect, handshake TLS with SNI; the control does the same. */
import type { Static } from '@sinclair/typebox'
import { Type, lazy } from '../typebox.ts'
import { judgeTlsHandshake, type TlsHandshakeReason } from '../verdict/tls-handshake.ts'
import { commonSchemas } from './common.ts'
import { defineNettest } from './kind.ts'
import { DNS_STEP_WORDS, OUTCOME_WORDS, TCP_STEP_WORDS, TLS_STEP_WORDS } from './words.ts'

export const TlsHandshakeKeys = lazy(() => {
  const { ControlKeys, SniFollowup, StepKeys, TlsHandshake, Verdict } = commonSchemas()
  return Type.Object(
    {
      ...StepKeys,
      server_name: Type.String(),
      tls_handshakes: Type.Array(TlsHandshake),
      x_sni_followup: Type.Optional(SniFollowup),
      x_sni_followup_name: Type.Optional(SniFollowup),
      ...ControlKeys,
      ...Verdict
    },
    { additionalProperties: true, $id: 'TlsHandshakeKeys' }
  )
})
export type TlsHandshakeKeys = Static<ReturnType<typeof TlsHandshakeKeys>>

const reasons: Record<TlsHandshakeReason, string> = {
  ...DNS_STEP_WORDS,
  ...TCP_STEP_WORDS,
  ...TLS_STEP_WORDS,
  ...OUTCOME_WORDS,
  no_handshake: 'no TLS handshake completed'
}

export default defineNettest({
  name: 'tls_handshake',
  version: '0.2.0',
  schemes: { 'tls:': { defaultPort: null, tcp: true, tls: true } },
  get testKeysSchema() {
    return TlsHandshakeKeys()
  },
  judge: judgeTlsHandshake,
  reasons
})
