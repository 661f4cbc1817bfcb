/**
 * The probe's HTTP client for talking to its aggregator (registration,
 * check-in, upload): node:http(s) with an optional proxy (socks5://… such as
 * Tor's, or an HTTP(S) proxy: CONNECT for https:// aggregators, absolute
 * URIs for http:// ones), extra CA certificates, a whole-request timeout and
 * an optional bandwidth cap on the request body.
 */
import http from 'node:http'
import https from 'node:https'
import { checkServerIdentity, type PeerCertificate } from 'node:tls'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** How to reach the aggregator. */
export interface HttpOptions {
  /** socks5://host:port, socks5h://…, socks4://…, http://host:port, https://host:port, or null for a direct connection. */
  proxy?: string | null
  /** Extra CA certificates, PEM. */
  caPem?: string | null
  /** Whole-request timeout, ms. Default 60000. */
  timeoutMs?: number
  /** Cap on the request body rate, KiB/s. 0 or unset: none. */
  bandwidthKbps?: number
  /** Aborts the request (a clean stop must not wait for a slow aggregator). */
  signal?: AbortSignal
}

/** A response: status, headers, the body as text. */
export interface HttpResponse {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
}

/** A network-level failure (no HTTP answer): refused, reset, timeout, proxy down. */
export class NetworkError extends Error {
  readonly code = 'PROBE_ERR_NETWORK'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NetworkError'
  }
}

/** Throttles a stream to a rate in bytes per second. */
class Throttle extends Transform {
  readonly #bytesPerS: number
  #start = Date.now()
  #sent = 0
  constructor(bytesPerS: number) {
    super()
    this.#bytesPerS = bytesPerS
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const slice = Math.max(1024, Math.floor(this.#bytesPerS / 10))
    const parts: Buffer[] = []
    for (let i = 0; i < chunk.length; i += slice) parts.push(chunk.subarray(i, i + slice))
    const next = (): void => {
      const part = parts.shift()
      if (part === undefined) {
        cb()
        return
      }
      this.#sent += part.length
      const due = this.#start + (this.#sent / this.#bytesPerS) * 1000
      this.push(part)
      setTimeout(next, Math.max(0, due - Date.now()))
    }
    next()
  }
}

const agents = new Map<string, http.Agent>()
/** The proxy's agent; the proxy packages are loaded by the first request through a proxy (most probes have none). */
async function agentFor(url: URL, opts: HttpOptions): Promise<http.Agent | undefined> {
  if (opts.proxy === undefined || opts.proxy === null) return undefined
  const key = `${opts.proxy} ${url.protocol}`
  let a = agents.get(key)
  if (a === undefined) {
    const p = new URL(opts.proxy)
    if (p.protocol.startsWith('socks')) {
      const { SocksProxyAgent } = await import('socks-proxy-agent')
      // socks5:// is taken as socks5h://: names are resolved by the proxy (Tor), so a
      // censor's poisoned resolver never sees, nor answers for, the aggregator's name.
      const proxy = p.protocol === 'socks5:' ? 'socks5h:' + opts.proxy.slice('socks5:'.length) : opts.proxy
      a = new SocksProxyAgent(proxy, opts.caPem != null ? ({ ca: opts.caPem } as never) : undefined)
    } else if (p.protocol === 'http:' || p.protocol === 'https:') {
      // An HTTP(S) proxy: a tunnel (CONNECT) to an https:// aggregator, so the
      // proxy sees only the host name; absolute URIs to a plain http:// one.
      const tls = p.protocol === 'https:' && opts.caPem != null ? { ca: opts.caPem } : {}
      a = url.protocol === 'https:' ? new (await import('https-proxy-agent')).HttpsProxyAgent(p, tls) : new (await import('http-proxy-agent')).HttpProxyAgent(p, tls)
    } else {
      throw new TypeError(`proxy ${opts.proxy}: only socks5://, socks5h://, socks4://, http:// and https:// proxies are supported`)
    }
    agents.set(key, a)
  }
  return a
}

/** Sends one request. Rejects with NetworkError when no HTTP answer came back. */
export async function request(method: string, url: string, headers: Record<string, string>, body: Buffer | null, opts: HttpOptions = {}): Promise<HttpResponse> {
  const u = new URL(url)
  const mod = u.protocol === 'https:' ? https : http
  const timeoutMs = opts.timeoutMs ?? 60_000
  const agent = await agentFor(u, opts)
  return await new Promise<HttpResponse>((resolve, reject) => {
    let settled = false
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      reject(new NetworkError(`${method} ${u.origin}${u.pathname}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }))
    }
    const req = mod.request(
      u,
      {
        method,
        headers: { ...headers, ...(body !== null ? { 'content-length': String(body.length) } : {}) },
        agent,
        ...(u.protocol === 'https:' && opts.caPem != null ? { ca: [...((https.globalAgent.options.ca as string[] | undefined) ?? []), opts.caPem] } : {}),
        // The certificate is checked against the aggregator's host name, also
        // inside a proxy's tunnel (whose agent would otherwise check an IP
        // address host against "localhost").
        ...(u.protocol === 'https:' ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(u.hostname.replace(/^\[|\]$/g, ''), cert) } : {})
      },
      res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', fail)
        res.on('aborted', () => fail(new Error('the response was cut off')))
        res.on('end', () => {
          if (settled) return
          if (!res.complete) {
            fail(new Error('the response was cut off'))
            return
          }
          settled = true
          clearTimeout(timer)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') })
        })
      }
    )
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }))
    }, timeoutMs)
    const onAbort = (): void => {
      req.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))
    }
    if (opts.signal?.aborted === true) onAbort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', err => {
      clearTimeout(timer)
      fail(err)
    })
    req.on('close', () => {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
    })
    if (body === null) {
      req.end()
      return
    }
    if (opts.bandwidthKbps !== undefined && opts.bandwidthKbps > 0) {
      pipeline(Readable.from([body]), new Throttle(opts.bandwidthKbps * 1024), req).catch(fail)
    } else {
      req.end(body)
    }
  })
}

/** POSTs JSON and parses a JSON answer (null when the body is not JSON). */
export async function postJson(
  url: string,
  payload: unknown,
  token: string | null,
  opts: HttpOptions = {}
): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: unknown; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (token !== null) headers.authorization = `Bearer ${token}`
  const res = await request('POST', url, headers, Buffer.from(JSON.stringify(payload)), opts)
  let json: unknown = null
  try {
    json = JSON.parse(res.text)
  } catch {}
  return { status: res.status, headers: res.headers, json, text: res.text }
}
