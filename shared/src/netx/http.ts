/**
 * HTTP GET through undici, pinned to a measured address, one hop at a time:
 * redirects are followed here (at most 10), each hop recorded, so that the
 * verdict can match fingerprints on every response of the chain. Each phase
 * has its own timeout (connect, TLS handshake, first byte, body) and the
 * body is capped (512 KiB by default). Recorded in OONI's `requests` shape
 * (df-001-httpt.md), latest response first, as OONI's probes write it.
 */
import { Client, type buildConnector } from 'undici'
import { isIP } from 'node:net'
import { classifyError, NetCode, NetError, type Operation } from './classify.ts'
import { dial } from './tcp.ts'
import { tlsHandshake } from './tls.ts'

/** What the HTTP step needs. All timeouts in ms. */
export interface HttpOptions {
  connectTimeoutMs: number
  tlsTimeoutMs: number
  headersTimeoutMs: number
  bodyTimeoutMs: number
  /** Default 10. */
  maxRedirects?: number
  /** Default 512 KiB. */
  bodyLimitBytes?: number
  ca?: string[]
  signal?: AbortSignal
  startedAt: number
  /** Addresses already measured, by host name: the first hop goes there. */
  pinned: Map<string, string>
  /** Resolves a redirect's new host name; null when it did not resolve (its failure). */
  resolve: (host: string) => Promise<{ addrs: string[]; failure: string | null }>
  /** The SSRF guard of the control vantage: false refuses the address. */
  allowAddress?: (ip: string) => boolean
  headers?: Record<string, string>
}

/** One request/response of the chain, as recorded in test_keys.requests. */
export interface HttpRequestEntry {
  request: { url: string; method: 'GET'; headers: Record<string, string>; x_address: string | null }
  response: HttpResponseRecord | null
  failure: string | null
  /** The phase the failure happened in. */
  x_failed_operation: Operation | null
  /** Body bytes per second, measured from the first body byte. */
  x_throughput_bps: number | null
  t: number
}

export interface HttpResponseRecord {
  code: number
  headers: Record<string, string>
  headers_list: Array<[string, string]>
  body: string | { format: 'base64'; data: string } | null
  body_is_truncated: boolean
  /** Bytes of body received (at most the cap). */
  x_body_length: number
}

export const DEFAULT_BODY_LIMIT_BYTES = 512 * 1024 // 512 KiB
export const DEFAULT_MAX_REDIRECTS = 10

/** The request headers a browser would send (OONI sends a browser's too). */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-language': 'en-US;q=0.8,en;q=0.5',
  'accept-encoding': 'identity'
})

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Encodes a body as OONI does: a string when it is valid UTF-8, else base64. */
export function encodeBody(buf: Buffer): string | { format: 'base64'; data: string } {
  try {
    return utf8.decode(buf)
  } catch {
    return { format: 'base64', data: buf.toString('base64') }
  }
}

/** Fetches `url`, following redirects. Never throws: failures are recorded. */
export async function httpGet(url: string, opts: HttpOptions): Promise<{ requests: HttpRequestEntry[]; failure: string | null; failedOperation: Operation | null }> {
  const requests: HttpRequestEntry[] = []
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS
  let current: URL
  try {
    current = new URL(url)
  } catch {
    return { requests, failure: 'http_invalid_redirect_url', failedOperation: 'http_request' }
  }
  for (let hop = 0; ; hop++) {
    const entry = await fetchOne(current, opts)
    requests.unshift(entry)
    if (entry.failure !== null) return { requests, failure: entry.failure, failedOperation: entry.x_failed_operation }
    const res = entry.response!
    const location = res.headers_list.find(([k]) => k.toLowerCase() === 'location')?.[1]
    if (!REDIRECTS.has(res.code) || location === undefined) return { requests, failure: null, failedOperation: null }
    let next: URL
    try {
      next = new URL(location, current)
    } catch {
      return { requests, failure: classifyError(new NetError(NetCode.badRedirect, 'bad Location')), failedOperation: 'http_request' }
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return { requests, failure: classifyError(new NetError(NetCode.badRedirect, 'bad Location scheme')), failedOperation: 'http_request' }
    if (hop + 1 > maxRedirects) return { requests, failure: classifyError(new NetError(NetCode.tooManyRedirects, 'too many redirects')), failedOperation: 'http_request' }
    current = next
  }
}

const hostOf = (u: URL): string => u.hostname.replace(/^\[|\]$/g, '')

async function addressFor(u: URL, opts: HttpOptions): Promise<{ ip: string } | { failure: string }> {
  const host = hostOf(u)
  if (isIP(host) !== 0) return { ip: host }
  const pinned = opts.pinned.get(host)
  if (pinned !== undefined) return { ip: pinned }
  const r = await opts.resolve(host)
  const ip = r.addrs.find(a => isIP(a) === 4) ?? r.addrs[0]
  if (ip === undefined) return { failure: r.failure ?? 'dns_no_answer' }
  opts.pinned.set(host, ip)
  return { ip }
}

async function fetchOne(u: URL, opts: HttpOptions): Promise<HttpRequestEntry> {
  const headers = { ...DEFAULT_HEADERS, ...opts.headers }
  const entry: HttpRequestEntry = {
    request: { url: u.href, method: 'GET', headers, x_address: null },
    response: null,
    failure: null,
    x_failed_operation: null,
    x_throughput_bps: null,
    t: 0
  }
  const fail = (err: unknown, op: Operation): HttpRequestEntry => {
    entry.failure = typeof err === 'string' ? err : classifyError(err)
    entry.x_failed_operation = op
    entry.t = (Date.now() - opts.startedAt) / 1000
    return entry
  }
  const addr = await addressFor(u, opts)
  if ('failure' in addr) return fail(addr.failure, 'resolve')
  const ip = addr.ip
  entry.request.x_address = ip
  if (opts.allowAddress !== undefined && !opts.allowAddress(ip)) return fail(new NetError(NetCode.forbidden, 'address refused'), 'connect')
  const https = u.protocol === 'https:'
  const port = u.port !== '' ? Number(u.port) : https ? 443 : 80
  const host = hostOf(u)
  // Which phase failed: set by the connector, read when undici reports the error.
  let phase: Operation = 'connect'
  const client = new Client(u.origin, {
    pipelining: 1,
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
    connect: (_o: unknown, cb: buildConnector.Callback) => {
      dial(ip, port, opts.connectTimeoutMs, opts.signal).then(
        async socket => {
          if (!https) {
            phase = 'http_headers'
            cb(null, socket)
            return
          }
          phase = 'tls_handshake'
          const { entry: hs, tls } = await tlsHandshake(socket, `${ip}:${port}`, host, opts.tlsTimeoutMs, opts.startedAt, { ca: opts.ca, signal: opts.signal })
          if (tls === null) {
            socket.destroy()
            cb(Object.assign(new Error('tls handshake failed'), { code: 'BW_TLS', failure: hs.failure }), null)
            return
          }
          phase = 'http_headers'
          cb(null, tls)
        },
        err => {
          cb(err as Error, null)
        }
      )
    }
  })
  try {
    const res = await client.request({ path: u.pathname + u.search, method: 'GET', headers, signal: opts.signal })
    phase = 'http_body'
    const headersList: Array<[string, string]> = []
    const flat: Record<string, string> = {}
    for (const [k, v] of Object.entries(res.headers)) {
      const values = Array.isArray(v) ? v : v === undefined ? [] : [v]
      for (const value of values) headersList.push([k, value])
      flat[k] = values.join(', ')
    }
    const limit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES
    const chunks: Buffer[] = []
    let size = 0
    let truncated = false
    let firstByteAt: number | null = null
    let bodyFailure: unknown = null
    const bodyTimer = setTimeout(() => {
      res.body.destroy(new NetError(NetCode.timeout, `body not complete within ${opts.bodyTimeoutMs} ms`))
    }, opts.bodyTimeoutMs)
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer
        firstByteAt ??= Date.now()
        if (size + buf.length > limit) {
          chunks.push(buf.subarray(0, limit - size))
          size = limit
          truncated = true
          break
        }
        chunks.push(buf)
        size += buf.length
      }
    } catch (err) {
      bodyFailure = err
    } finally {
      clearTimeout(bodyTimer)
      if (truncated) res.body.destroy()
    }
    const body = Buffer.concat(chunks)
    const elapsed = firstByteAt === null ? 0 : (Date.now() - firstByteAt) / 1000
    entry.x_throughput_bps = size > 0 && elapsed > 0 ? Math.round(size / elapsed) : null
    entry.response = {
      code: res.statusCode,
      headers: flat,
      headers_list: headersList,
      body: encodeBody(body),
      body_is_truncated: truncated,
      x_body_length: size
    }
    if (bodyFailure !== null) return fail(bodyFailure, 'http_body')
    entry.t = (Date.now() - opts.startedAt) / 1000
    return entry
  } catch (err) {
    const tlsFailure = (err as { failure?: unknown }).failure
    if (typeof tlsFailure === 'string') return fail(tlsFailure, 'tls_handshake')
    const code = (err as { code?: unknown }).code
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return fail(err, 'http_headers')
    return fail(err, phase)
  } finally {
    client.destroy().catch(() => {})
  }
}
