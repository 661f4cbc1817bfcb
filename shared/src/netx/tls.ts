/**
 * A TLS handshake as a step of its own, over an already connected socket,
 * with SNI and certificate validation against the system roots plus any
 * extra CA, so that a TCP failure and a TLS failure are told apart.
 * Recorded in OONI's `tls_handshakes` shape (df-006-tlshandshake.md).
 */
import type { Socket } from 'node:net'
import { connect as tlsConnect, createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from 'node:tls'
import { classifyError, NetCode, NetError } from './classify.ts'

/** One handshake as recorded in test_keys.tls_handshakes. */
export interface TlsHandshakeEntry {
  address: string
  /** The SNI sent; null for a handshake without SNI (the follow-up of ../tests/sni-followup.ts). */
  server_name: string | null
  failure: string | null
  tls_version: string | null
  cipher_suite: string | null
  negotiated_protocol: string | null
  no_tls_verify: boolean
  /** The leaf certificate's subject CN and issuer CN, when one was presented. */
  x_peer_certificate: { subject: string | null; issuer: string | null; valid_to: string | null } | null
  t: number
}

/** The roots to trust: the system's (Node's bundled list) plus extra PEM certificates. */
export function trustedCa(extraPem?: string | string[]): string[] | undefined {
  const extra = extraPem === undefined ? [] : Array.isArray(extraPem) ? extraPem : [extraPem]
  if (extra.length === 0) return undefined
  return [...rootCertificates, ...extra]
}

/**
 * One SecureContext per list of roots. Passing `ca` to tls.connect builds a
 * new context, parsing every root (~150 with the system's), on each
 * connection: ~100 ms of CPU and a few MB each. The engine passes the same
 * array for a whole run, so the context is built once.
 */
const contexts = new WeakMap<string[], SecureContext>()
function secureContextFor(ca: string[]): SecureContext {
  let c = contexts.get(ca)
  if (c === undefined) {
    c = createSecureContext({ ca })
    contexts.set(ca, c)
  }
  return c
}

/**
 * Handshakes over `socket`. Resolves with the record and the TLS socket
 * (null on failure). `serverName` null sends no SNI; `verify` false accepts
 * any certificate (recorded as no_tls_verify), for a handshake that only
 * asks whether TLS gets through at all.
 */
export async function tlsHandshake(
  socket: Socket,
  address: string,
  serverName: string | null,
  timeoutMs: number,
  startedAt: number,
  opts: { ca?: string[]; alpn?: string[]; signal?: AbortSignal; verify?: boolean } = {}
): Promise<{ entry: TlsHandshakeEntry; tls: TLSSocket | null }> {
  const verify = opts.verify ?? true
  const entry: TlsHandshakeEntry = {
    address,
    server_name: serverName,
    failure: null,
    tls_version: null,
    cipher_suite: null,
    negotiated_protocol: null,
    no_tls_verify: !verify,
    x_peer_certificate: null,
    t: 0
  }
  try {
    const tls = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({
        socket,
        servername: serverName === null || isIpLiteral(serverName) ? undefined : serverName,
        ...(opts.ca !== undefined ? { secureContext: secureContextFor(opts.ca) } : {}),
        ALPNProtocols: opts.alpn ?? ['http/1.1'],
        rejectUnauthorized: verify
      })
      const done = (err?: Error): void => {
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        t.removeAllListeners('secureConnect')
        if (err !== undefined) {
          const cert = t.getPeerCertificate?.()
          if (cert !== undefined && cert !== null && Object.keys(cert).length > 0) entry.x_peer_certificate = certSummary(cert)
          t.destroy()
          reject(err)
        } else resolve(t)
      }
      const onAbort = (): void => done(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))
      opts.signal?.addEventListener('abort', onAbort)
      const timer = setTimeout(() => done(new NetError(NetCode.timeout, `TLS handshake timed out after ${timeoutMs} ms`)), timeoutMs)
      t.once('secureConnect', () => done())
      t.once('error', err => done(err))
      t.once('end', () => done(new NetError(NetCode.eof, 'the server closed the connection during the handshake')))
    })
    tls.on('error', () => {})
    entry.tls_version = tls.getProtocol() ?? null
    entry.cipher_suite = tls.getCipher()?.standardName ?? null
    entry.negotiated_protocol = typeof tls.alpnProtocol === 'string' ? tls.alpnProtocol : null
    entry.x_peer_certificate = certSummary(tls.getPeerCertificate())
    entry.t = (Date.now() - startedAt) / 1000
    return { entry, tls }
  } catch (err) {
    entry.failure = classifyError(err)
    entry.t = (Date.now() - startedAt) / 1000
    return { entry, tls: null }
  }
}

function certSummary(cert: { subject?: { CN?: string | string[] }; issuer?: { CN?: string | string[] }; valid_to?: string }): TlsHandshakeEntry['x_peer_certificate'] {
  const cn = (v: string | string[] | undefined): string | null => (v === undefined ? null : Array.isArray(v) ? v.join(',') : v)
  return { subject: cn(cert.subject?.CN), issuer: cn(cert.issuer?.CN), valid_to: cert.valid_to ?? null }
}

const isIpLiteral = (s: string): boolean => /^[\d.]+$/.test(s) || s.includes(':')
