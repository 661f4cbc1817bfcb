/**
 * The steps the non-web tests share: resolve the target's host (no step
 * for a literal address), connect to every address, and handshake TLS on
 * each connection. Each records OONI-shaped entries.
 */
import type { Socket } from 'node:net'
import { isIP } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { lookup, type DnsQuery } from '../../../shared/src/netx/dns.ts'
import { endpoint, tcpConnect, type TcpConnectEntry } from '../../../shared/src/netx/tcp.ts'
import { tlsHandshake, type TlsHandshakeEntry } from '../../../shared/src/netx/tls.ts'
import type { TestContext } from './types.ts'

/** The host of a target URL, without IPv6 brackets. */
export const hostOf = (u: URL): string => u.hostname.replace(/^\[|\]$/g, '')

/** Resolves a host through the context's resolver (a literal address resolves to itself). */
export async function resolveHost(ctx: TestContext, host: string): Promise<{ queries: DnsQuery[]; addrs: string[]; failure: string | null }> {
  if (isIP(host) !== 0) return { queries: [], addrs: [host], failure: null }
  return await lookup(host, ctx.resolver, { timeoutMs: ctx.timeouts.dnsMs, startedAt: ctx.startedAt, signal: ctx.signal, engine: 'system' })
}

/** An open connection that passed every step. */
export interface Open {
  ip: string
  socket: Socket
  tls: TLSSocket | null
}

/**
 * Connects to every address (and handshakes TLS with SNI `serverName` when
 * given). Returns the records and the connections that worked; the caller
 * closes them.
 */
export async function connectAll(ctx: TestContext, addrs: string[], port: number, serverName?: string): Promise<{ tcp: TcpConnectEntry[]; tls: TlsHandshakeEntry[]; open: Open[] }> {
  const tcp: TcpConnectEntry[] = []
  const tls: TlsHandshakeEntry[] = []
  const open: Open[] = []
  await Promise.all(
    addrs.map(async ip => {
      const { entry, socket } = await tcpConnect(ip, port, ctx.timeouts.connectMs, ctx.startedAt, ctx.signal)
      tcp.push(entry)
      if (socket === null) return
      if (serverName === undefined) {
        open.push({ ip, socket, tls: null })
        return
      }
      const hs = await tlsHandshake(socket, endpoint(ip, port), serverName, ctx.timeouts.tlsMs, ctx.startedAt, { ca: ctx.ca, signal: ctx.signal, alpn: [] })
      tls.push(hs.entry)
      if (hs.tls === null) {
        socket.destroy()
        return
      }
      open.push({ ip, socket, tls: hs.tls })
    })
  )
  const order = (ip: string): number => addrs.indexOf(ip)
  tcp.sort((a, b) => order(a.ip) - order(b.ip))
  open.sort((a, b) => order(a.ip) - order(b.ip))
  return { tcp, tls, open }
}

/** Closes every connection. */
export function closeAll(open: Open[]): void {
  for (const o of open) {
    o.tls?.destroy()
    o.socket.destroy()
  }
}
