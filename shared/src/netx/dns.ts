/**
 * DNS with dns-packet: UDP with a TCP fallback on truncation, plain TCP,
 * and DNS over HTTPS (RFC 8484). Each query has its own timeout. Over UDP
 * the socket keeps listening for a short window after the first reply, so
 * that an injected reply racing the real one is caught (both are recorded).
 *
 * Results are recorded in OONI's `queries` shape (df-002-dnst.md).
 */
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { connect as netConnect, isIP } from 'node:net'
import dnsPacket from 'dns-packet'
import { Agent, request } from 'undici'
import { classifyError, NetCode, NetError } from './classify.ts'
import { DEFAULT_HOSTS_FILE, hostsAddresses } from './hosts.ts'

/** One DoH dispatcher per list of roots (building a TLS context per query costs ~100 ms of CPU). */
const agents = new WeakMap<string[], Agent>()
function agentFor(ca: string[]): Agent {
  let a = agents.get(ca)
  if (a === undefined) {
    a = new Agent({ connect: { ca } })
    agents.set(ca, a)
  }
  return a
}

/** A resolver's address. */
export interface ResolverAddress {
  host: string
  port: number
}

/** The DNS engines the probe uses. */
export type DnsEngine = 'system' | 'udp' | 'tcp' | 'doh'

/** One A or AAAA (or CNAME) answer, OONI-shaped. */
export interface DnsAnswer {
  answer_type: 'A' | 'AAAA' | 'CNAME'
  ipv4?: string
  ipv6?: string
  hostname?: string
  ttl: number | null
}

/** One query as recorded in test_keys.queries. */
export interface DnsQuery {
  engine: DnsEngine
  resolver_address: string
  hostname: string
  query_type: 'A' | 'AAAA'
  answers: DnsAnswer[] | null
  failure: string | null
  /** Seconds since the test started. */
  t: number
  /** Replies that arrived after the first, for the same query id (injection). */
  x_duplicate_replies?: Array<{ answers: DnsAnswer[] | null; failure: string | null; t: number }>
  /** Set when a truncated UDP reply was retried over TCP. */
  x_tcp_fallback?: boolean
}

/** Parses "IP", "IP:PORT", "[IPv6]:PORT" (port 53 by default). */
export function parseResolver(text: string): ResolverAddress | null {
  const t = text.trim()
  let host = t
  let port = 53
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t)
  if (v6 !== null) {
    host = v6[1]
    if (v6[2] !== undefined) port = Number(v6[2])
  } else if (isIP(t) === 0) {
    const m = /^([^:]+):(\d+)$/.exec(t)
    if (m === null) return null
    host = m[1]
    port = Number(m[2])
  }
  if (isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null
  return { host, port }
}

/** The first nameserver of /etc/resolv.conf (or the given file), or null. */
export function systemResolver(resolvConf = '/etc/resolv.conf'): ResolverAddress | null {
  let text: string
  try {
    text = readFileSync(resolvConf, 'utf8')
  } catch {
    return null
  }
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line)
    if (m !== null) {
      const r = parseResolver(m[1].replace(/%.*$/, ''))
      if (r !== null) return r
    }
  }
  return null
}

export const formatResolver = (r: ResolverAddress): string => (r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`)

/** Per-query options. */
export interface QueryOptions {
  /** Timeout of one query, in ms. Default 4000. */
  timeoutMs?: number
  /** How long a UDP socket keeps listening after the first reply, in ms. Default 0. */
  duplicateWindowMs?: number
  /** Extra CA certificates for DoH. */
  ca?: string[]
  signal?: AbortSignal
  /** The test's start, for `t` (ms since the epoch, monotonic clock of the caller). */
  startedAt?: number
}

const RCODE_CODES: Record<string, string> = {
  NXDOMAIN: NetCode.nxdomain,
  REFUSED: NetCode.refused,
  SERVFAIL: NetCode.servfail
}

interface Reply {
  answers: DnsAnswer[] | null
  failure: string | null
  truncated: boolean
}

function decodeReply(buf: Buffer, type: 'A' | 'AAAA'): Reply {
  let pkt: dnsPacket.Packet
  try {
    pkt = dnsPacket.decode(buf)
  } catch (err) {
    return { answers: null, failure: classifyError(new NetError(NetCode.dnsOther, 'malformed DNS reply', { cause: err })), truncated: false }
  }
  const truncated = ((pkt.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0
  const rcode = (pkt as { rcode?: string }).rcode ?? 'NOERROR'
  if (rcode !== 'NOERROR') {
    return { answers: null, failure: classifyError(new NetError(RCODE_CODES[rcode] ?? NetCode.dnsOther, `rcode ${rcode}`)), truncated }
  }
  const answers: DnsAnswer[] = []
  for (const a of pkt.answers ?? []) {
    const rawTtl = (a as { ttl?: unknown }).ttl
    const ttl = typeof rawTtl === 'number' ? rawTtl : null
    if (a.type === 'A' && typeof a.data === 'string') answers.push({ answer_type: 'A', ipv4: a.data, ttl })
    else if (a.type === 'AAAA' && typeof a.data === 'string') answers.push({ answer_type: 'AAAA', ipv6: a.data, ttl })
    else if (a.type === 'CNAME' && typeof a.data === 'string') answers.push({ answer_type: 'CNAME', hostname: a.data, ttl })
  }
  if (!answers.some(a => a.answer_type === type)) return { answers: answers.length > 0 ? answers : null, failure: 'dns_no_answer', truncated }
  return { answers, failure: null, truncated }
}

function encodeQuery(name: string, type: 'A' | 'AAAA', id: number): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] })
}

const newId = (): number => Math.floor(Math.random() * 65536)
const since = (startedAt: number | undefined): number => (startedAt === undefined ? 0 : (Date.now() - startedAt) / 1000)

/** Sends one query over UDP; retries over TCP when the reply is truncated. */
export async function queryUdp(name: string, type: 'A' | 'AAAA', server: ResolverAddress, opts: QueryOptions = {}): Promise<DnsQuery> {
  const timeoutMs = opts.timeoutMs ?? 4000
  const windowMs = opts.duplicateWindowMs ?? 0
  const id = newId()
  const base = { engine: 'udp' as DnsEngine, resolver_address: formatResolver(server), hostname: name, query_type: type }
  const replies = await new Promise<Array<{ reply: Reply; t: number }> | Error>(resolve => {
    const sock = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4')
    const got: Array<{ reply: Reply; t: number }> = []
    let timer: NodeJS.Timeout | undefined
    const finish = (v: Array<{ reply: Reply; t: number }> | Error): void => {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      try {
        sock.close()
      } catch {}
      resolve(v)
    }
    const onAbort = (): void => {
      finish(got.length > 0 ? got : Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))
    }
    opts.signal?.addEventListener('abort', onAbort)
    sock.on('error', err => {
      finish(got.length > 0 ? got : err)
    })
    sock.on('message', msg => {
      if (msg.length < 2 || msg.readUInt16BE(0) !== id) return
      got.push({ reply: decodeReply(msg, type), t: since(opts.startedAt) })
      if (got.length === 1) {
        clearTimeout(timer)
        if (windowMs <= 0 || got[0].reply.truncated) {
          finish(got)
          return
        }
        timer = setTimeout(() => finish(got), windowMs)
      }
    })
    timer = setTimeout(() => finish(new NetError(NetCode.timeout, `no DNS reply within ${timeoutMs} ms`)), timeoutMs)
    sock.send(encodeQuery(name, type, id), server.port, server.host, err => {
      if (err != null) finish(err)
    })
  })
  if (replies instanceof Error) return { ...base, answers: null, failure: classifyError(replies), t: since(opts.startedAt) }
  const [first, ...rest] = replies
  if (first.reply.truncated) {
    const tcp = await queryTcp(name, type, server, opts)
    return { ...tcp, engine: 'udp', x_tcp_fallback: true }
  }
  const q: DnsQuery = { ...base, answers: first.reply.answers, failure: first.reply.failure, t: first.t }
  if (rest.length > 0) q.x_duplicate_replies = rest.map(r => ({ answers: r.reply.answers, failure: r.reply.failure, t: r.t }))
  return q
}

/** Sends one query over TCP (RFC 7766 length-prefixed). */
export async function queryTcp(name: string, type: 'A' | 'AAAA', server: ResolverAddress, opts: QueryOptions = {}): Promise<DnsQuery> {
  const timeoutMs = opts.timeoutMs ?? 4000
  const id = newId()
  const base = { engine: 'tcp' as DnsEngine, resolver_address: formatResolver(server), hostname: name, query_type: type }
  const result = await new Promise<Reply | Error>(resolve => {
    const sock = netConnect({ host: server.host, port: server.port, autoSelectFamily: false })
    let buf = Buffer.alloc(0)
    const finish = (v: Reply | Error): void => {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      sock.destroy()
      resolve(v)
    }
    const onAbort = (): void => finish(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))
    opts.signal?.addEventListener('abort', onAbort)
    const timer = setTimeout(() => finish(new NetError(NetCode.timeout, `no DNS reply within ${timeoutMs} ms`)), timeoutMs)
    sock.on('connect', () => {
      sock.write(dnsPacket.streamEncode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }))
    })
    sock.on('data', chunk => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(decodeReply(buf.subarray(2, 2 + buf.readUInt16BE(0)), type))
    })
    sock.on('end', () => finish(new NetError(NetCode.eof, 'the DNS server closed the connection')))
    sock.on('error', err => finish(err))
  })
  if (result instanceof Error) return { ...base, answers: null, failure: classifyError(result), t: since(opts.startedAt) }
  return { ...base, answers: result.answers, failure: result.failure, t: since(opts.startedAt) }
}

/** Sends one query over DNS over HTTPS (RFC 8484, POST application/dns-message). */
export async function queryDoh(name: string, type: 'A' | 'AAAA', url: string, opts: QueryOptions = {}): Promise<DnsQuery> {
  const timeoutMs = opts.timeoutMs ?? 4000
  const base = { engine: 'doh' as DnsEngine, resolver_address: url, hostname: name, query_type: type }
  const dispatcher = opts.ca !== undefined ? agentFor(opts.ca) : undefined
  try {
    const signal = opts.signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)])
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body: encodeQuery(name, type, 0),
      signal,
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    const body = Buffer.from(await res.body.arrayBuffer())
    if (res.statusCode !== 200) return { ...base, answers: null, failure: classifyError(new NetError(NetCode.servfail, `DoH status ${res.statusCode}`)), t: since(opts.startedAt) }
    const reply = decodeReply(body, type)
    return { ...base, answers: reply.answers, failure: reply.failure, t: since(opts.startedAt) }
  } catch (err) {
    const e = (err as { name?: string }).name === 'TimeoutError' ? new NetError(NetCode.timeout, 'DoH timeout') : err
    return { ...base, answers: null, failure: classifyError(e), t: since(opts.startedAt) }
  }
}

/** A lookup's outcome: the A and AAAA queries, the addresses, and a failure when there are none. */
export interface Lookup {
  queries: DnsQuery[]
  addrs: string[]
  failure: string | null
}

/**
 * Resolves A and AAAA in parallel through one resolver (UDP, TCP fallback).
 * The failure, when no address came back, prefers NXDOMAIN, then the A
 * query's failure.
 */
export async function lookup(name: string, server: ResolverAddress, opts: QueryOptions & { engine?: DnsEngine; hostsFile?: string | null } = {}): Promise<Lookup> {
  // The hosts file first, as the system's resolver does (null: DNS only).
  const pinned = opts.hostsFile === null ? [] : hostsAddresses(name, opts.hostsFile)
  if (pinned.length > 0) return fromQueries(fromHostsFile(name, pinned, opts.hostsFile ?? DEFAULT_HOSTS_FILE, opts.engine ?? 'system', since(opts.startedAt)))
  const [a, aaaa] = await Promise.all([queryUdp(name, 'A', server, opts), queryUdp(name, 'AAAA', server, opts)])
  if (opts.engine !== undefined) {
    a.engine = opts.engine
    aaaa.engine = opts.engine
  }
  return fromQueries([a, aaaa])
}

/** The A and AAAA queries a hosts-file entry answers, recorded with the file as the resolver. */
function fromHostsFile(name: string, addrs: string[], file: string, engine: DnsEngine, t: number): DnsQuery[] {
  return (['A', 'AAAA'] as const).map(type => {
    const answers: DnsAnswer[] = addrs
      .filter(a => isIP(a) === (type === 'A' ? 4 : 6))
      .map(ip => (type === 'A' ? { answer_type: 'A', ipv4: ip, ttl: null } : { answer_type: 'AAAA', ipv6: ip, ttl: null }))
    return { engine, resolver_address: `file:${file}`, hostname: name, query_type: type, answers: answers.length > 0 ? answers : null, failure: answers.length > 0 ? null : 'dns_no_answer', t }
  })
}

/** The addresses and failure of a set of queries. */
export function fromQueries(queries: DnsQuery[]): Lookup {
  const addrs: string[] = []
  for (const q of queries) {
    for (const ans of q.answers ?? []) {
      const ip = ans.ipv4 ?? ans.ipv6
      if (ip !== undefined && !addrs.includes(ip)) addrs.push(ip)
    }
  }
  let failure: string | null = null
  if (addrs.length === 0) {
    failure = queries.find(q => q.failure === 'dns_nxdomain_error')?.failure ?? queries.find(q => q.failure !== null)?.failure ?? 'dns_no_answer'
    if (queries.every(q => q.failure === 'dns_no_answer')) failure = 'dns_no_answer'
  }
  return { queries, addrs, failure }
}
