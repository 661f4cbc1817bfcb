/**
 * The SNI follow-ups (issue 15): when every TLS handshake to a target was
 * cut (reset, silence, closed), more handshakes to the same address and
 * port tell the two censors apart:
 *
 *  1. one with no SNI at all (test_keys.x_sni_followup). It completes, or
 *     the server itself answers with a TLS alert: TLS gets through to that
 *     address, so the first handshake was cut for the name it carried (SNI
 *     filtering). It is cut the same way: the address is filtered, or the
 *     server refuses a ClientHello without SNI by closing or resetting (many
 *     real servers do), so this alone cannot tell.
 *  2. then, only when the first was cut, one with another name from the
 *     probe's own list (test_keys.x_sni_followup_name): preferably one
 *     whose own handshake succeeded in this run, else another listed name.
 *     Through → SNI filtering; cut → the address is filtered.
 *
 * They contact only an address the target's own DNS answer named, and send
 * no made-up name: no SNI, or a name the probe's lists hold
 * (docs/methodology.md). The certificate is not checked: the question is
 * only whether a handshake gets through. The verdict reads the records
 * (shared/src/verdict/steps.ts, tlsFiltering).
 */
import { isIP } from 'node:net'
import { tcpConnect } from '../../../shared/src/netx/tcp.ts'
import { tlsHandshake } from '../../../shared/src/netx/tls.ts'
import { CUT_TLS_FAILURES } from '../../../shared/src/verdict/steps.ts'
import type { TestContext } from './types.ts'

/** What test_keys.x_sni_followup (no SNI) and x_sni_followup_name (another listed name) record. */
export interface SniFollowup {
  /** "ip:port", the address of the first cut handshake. */
  address: string
  /** The SNI sent: null for the first follow-up, the other listed name for the second. */
  server_name: string | null
  /**
   * Second follow-up only: where the name came from. "tls_ok": a listed
   * name whose own handshake succeeded earlier in this run; "list": another
   * listed name, not yet seen to pass.
   */
  name_source?: 'tls_ok' | 'list'
  /** "connect" when the TCP connect failed (nothing learned), else "tls_handshake". */
  operation: 'connect' | 'tls_handshake'
  failure: string | null
  t: number
}

/** Both follow-ups; `name` is null when the first was not cut or no other name was at hand. */
export interface SniFollowups {
  bare: SniFollowup
  name: SniFollowup | null
}

/**
 * Runs the follow-ups when every handshake failed and at least one was
 * cut; resolves null when there is nothing to follow up.
 */
export async function sniFollowup(ctx: TestContext, handshakes: Array<{ address: string; failure: string | null }>): Promise<SniFollowups | null> {
  if (handshakes.length === 0 || handshakes.some(h => h.failure === null)) return null
  const cut = handshakes.find(h => h.failure !== null && CUT_TLS_FAILURES.has(h.failure))
  if (cut === undefined) return null
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(cut.address)
  if (m === null) return null
  const bare = await handshakeAt(ctx, m[1], Number(m[2]), cut.address, null)
  if (bare.operation !== 'tls_handshake' || bare.failure === null || !CUT_TLS_FAILURES.has(bare.failure)) return { bare, name: null }
  const other = ctx.otherName?.(new URL(ctx.target.url).hostname.replace(/^\[|\]$/g, '')) ?? null
  if (other === null) return { bare, name: null }
  const named = await handshakeAt(ctx, m[1], Number(m[2]), cut.address, other.name)
  return { bare, name: { ...named, name_source: other.source } }
}

async function handshakeAt(ctx: TestContext, ip: string, port: number, address: string, serverName: string | null): Promise<SniFollowup> {
  const { entry, socket } = await tcpConnect(ip, port, ctx.timeouts.connectMs, ctx.startedAt, ctx.signal)
  if (socket === null) return { address, server_name: serverName, operation: 'connect', failure: entry.status.failure, t: entry.t }
  const hs = await tlsHandshake(socket, address, serverName, ctx.timeouts.tlsMs, ctx.startedAt, { ca: ctx.ca, signal: ctx.signal, alpn: [], verify: false })
  hs.tls?.destroy()
  socket.destroy()
  return { address, server_name: serverName, operation: 'tls_handshake', failure: hs.entry.failure, t: hs.entry.t }
}

/** The test_keys of the follow-ups, to spread into a test's test_keys. */
export function followupKeys(f: SniFollowups | null): Record<string, SniFollowup> {
  if (f === null) return {}
  return f.name === null ? { x_sni_followup: f.bare } : { x_sni_followup: f.bare, x_sni_followup_name: f.name }
}

/** How many names of each kind ListedNames keeps: enough to pass over a few filtered ones, bounded for 100,000-target runs. */
const KEEP = 64

/**
 * The host names of a run's own list, for the second follow-up: every
 * listed name as its target starts, and apart the names whose TLS
 * handshake succeeded (seen in finished measurements), and those whose
 * handshake was cut (never offered). The engine keeps one per run.
 */
export class ListedNames {
  private readonly listed = new Set<string>()
  private readonly ok = new Set<string>()
  private readonly cut = new Set<string>()

  /** A target of the list started: its host is a listed name (literal addresses are not names). */
  noteListed(host: string): void {
    if (isName(host)) remember(this.listed, host.toLowerCase())
  }

  /** A finished measurement's TLS handshakes: the names that got through, and those that were cut. */
  noteHandshakes(handshakes: unknown): void {
    if (!Array.isArray(handshakes)) return
    for (const h of handshakes as Array<{ server_name?: unknown; failure?: unknown }>) {
      if (typeof h?.server_name !== 'string' || !isName(h.server_name)) continue
      const name = h.server_name.toLowerCase()
      if (h.failure === null) {
        this.cut.delete(name)
        remember(this.ok, name)
      } else if (typeof h.failure === 'string' && CUT_TLS_FAILURES.has(h.failure)) remember(this.cut, name)
    }
  }

  /**
   * Another name for a handshake to `host`'s address: the latest one that
   * passed in this run, else the latest listed one not seen cut; never
   * `host` itself nor a name inside or above it (a censor matching
   * "example.org" also cuts "www.example.org").
   */
  pick(host: string): { name: string; source: 'tls_ok' | 'list' } | null {
    const h = host.toLowerCase()
    const unrelated = (n: string): boolean => n !== h && !n.endsWith('.' + h) && !h.endsWith('.' + n)
    const ok = [...this.ok].reverse().find(unrelated)
    if (ok !== undefined) return { name: ok, source: 'tls_ok' }
    const listed = [...this.listed].reverse().find(n => unrelated(n) && !this.cut.has(n))
    return listed === undefined ? null : { name: listed, source: 'list' }
  }
}

const isName = (host: string): boolean => host !== '' && isIP(host.replace(/^\[|\]$/g, '')) === 0

/** Adds `name` as the newest entry, dropping the oldest beyond KEEP. */
function remember(set: Set<string>, name: string): void {
  set.delete(name)
  set.add(name)
  if (set.size > KEEP) set.delete(set.values().next().value as string)
}
