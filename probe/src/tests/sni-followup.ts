/**
 * The SNI follow-up (issue 15): when every TLS handshake to a target was
 * cut (reset, silence, closed), one more handshake to the same address and
 * port, with no SNI at all, tells the two censors apart:
 *
 *  - it completes, or the server itself answers with a TLS alert: TLS gets
 *    through to that address, so the first handshake was cut for the name
 *    it carried (SNI filtering);
 *  - it is cut the same way: the address is filtered, whatever the name.
 *
 * It contacts only an address the target's own DNS answer named, and sends
 * no made-up name (docs/methodology.md). The certificate is not checked:
 * the question is only whether a handshake gets through. The verdict reads
 * the record (shared/src/verdict/steps.ts, tlsFiltering).
 */
import { tcpConnect } from '../netx/tcp.ts'
import { tlsHandshake } from '../netx/tls.ts'
import { CUT_TLS_FAILURES } from '../../../shared/src/verdict/steps.ts'
import type { TestContext } from './types.ts'


/** What test_keys.x_sni_followup records. */
export interface SniFollowup {
  /** "ip:port", the address of the first cut handshake. */
  address: string
  /** Always null: no SNI was sent. */
  server_name: null
  /** "connect" when the TCP connect failed (nothing learned), else "tls_handshake". */
  operation: 'connect' | 'tls_handshake'
  failure: string | null
  t: number
}

/**
 * Runs the follow-up when every handshake failed and at least one was cut;
 * resolves null when there is nothing to follow up.
 */
export async function sniFollowup (ctx: TestContext, handshakes: Array<{ address: string, failure: string | null }>): Promise<SniFollowup | null> {
  if (handshakes.length === 0 || handshakes.some(h => h.failure === null)) return null
  const cut = handshakes.find(h => h.failure !== null && CUT_TLS_FAILURES.has(h.failure))
  if (cut === undefined) return null
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(cut.address)
  if (m === null) return null
  const { entry, socket } = await tcpConnect(m[1], Number(m[2]), ctx.timeouts.connectMs, ctx.startedAt, ctx.signal)
  if (socket === null) return { address: cut.address, server_name: null, operation: 'connect', failure: entry.status.failure, t: entry.t }
  const hs = await tlsHandshake(socket, cut.address, null, ctx.timeouts.tlsMs, ctx.startedAt, { ca: ctx.ca, signal: ctx.signal, alpn: [], verify: false })
  hs.tls?.destroy()
  socket.destroy()
  return { address: cut.address, server_name: null, operation: 'tls_handshake', failure: hs.entry.failure, t: hs.entry.t }
}
