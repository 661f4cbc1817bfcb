/** tcp_connect (tcp://host:port): resolve, then connect to every address; the control does the same. */
import type { Static } from '@sinclair/typebox'
import { Type, lazy } from '../typebox.ts'
import { judgeTcpConnect, type TcpConnectReason } from '../verdict/tcp-connect.ts'
import { commonSchemas } from './common.ts'
import { defineNettest } from './kind.ts'
import { DNS_STEP_WORDS, OUTCOME_WORDS, TCP_STEP_WORDS } from './words.ts'

export const TcpConnectKeys = lazy(() => {
  const { ControlKeys, StepKeys, Verdict } = commonSchemas()
  return Type.Object({ ...StepKeys, ...ControlKeys, ...Verdict }, { additionalProperties: true, $id: 'TcpConnectKeys' })
})
export type TcpConnectKeys = Static<ReturnType<typeof TcpConnectKeys>>

const reasons: Record<TcpConnectReason, string> = {
  ...DNS_STEP_WORDS,
  ...TCP_STEP_WORDS,
  ...OUTCOME_WORDS,
  no_connect: 'no TCP connection could be made'
}

export default defineNettest({
  name: 'tcp_connect',
  version: '0.1.0',
  schemes: { 'tcp:': { defaultPort: null, tcp: true, tls: false } },
  get testKeysSchema() {
    return TcpConnectKeys()
  },
  judge: judgeTcpConnect,
  reasons
})
