/**
 * A plain client for the lab tests (not the probe): it runs inside the lab's
 * client namespace, performs a batch of checks given as JSON on stdin, and
 * prints one JSON result per check. Each check has its own timer, so a DROP
 * shows as ETIMEDOUT within the check's timeoutMs (the kernel would take ~127 s).
 *
 * Run: ip netns exec <prefix>client node --import tsx test/helpers/lab-client.ts < checks.json
 */
import { createSocket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { createRequire } from 'node:module'
import net from 'node:net'
import tls from 'node:tls'
import dnsPacket from 'dns-packet'

/** One check. */
export type Check =
  | { op: 'lookup'; host: string }
  | { op: 'dns'; host: string; server: string; windowMs: number; tcp?: boolean }
  /** family: the address family looked up (default 4; 6 for the lab's IPv6 targets). */
  | { op: 'fetch'; url: string; ca?: string; timeoutMs: number; method?: string; family?: 4 | 6 }
  | { op: 'smpp'; host: string; timeoutMs: number }
  /** A TLS handshake to ip:port with that SNI (null: none), certificate not checked. */
  | { op: 'tls'; ip: string; port: number; servername: string | null; timeoutMs: number }

/** One result: what was seen, or the error code. */
export interface CheckResult {
  ok: boolean
  /** err.code (ENOTFOUND, ETIMEDOUT, ECONNRESET, …) when !ok. */
  code?: string
  message?: string
  address?: string
  /** dns: the A records of each reply, in arrival order. */
  replies?: string[][]
  status?: number
  body?: string
  /** fetch: the response's header names, lower case. */
  headers?: string[]
  bytes?: number
  ms: number
}

function fail(err: unknown, started: number): CheckResult {
  const e = err as NodeJS.ErrnoException
  return { ok: false, code: e.code ?? 'UNKNOWN', message: e.message, ms: Date.now() - started }
}

async function doLookup(host: string): Promise<CheckResult> {
  const t0 = Date.now()
  try {
    const r = await lookup(host, { family: 4 })
    return { ok: true, address: r.address, ms: Date.now() - t0 }
  } catch (err) {
    return fail(err, t0)
  }
}

/** Sends one A query and collects every reply for windowMs: an injected forgery and the genuine answer both show. */
async function doDns(host: string, server: string, windowMs: number): Promise<CheckResult> {
  const t0 = Date.now()
  const sock = createSocket('udp4')
  const replies: string[][] = []
  const id = Math.floor(Math.random() * 65535)
  sock.on('message', (msg: Buffer) => {
    try {
      const p = dnsPacket.decode(msg)
      if (p.id !== id) return
      replies.push((p.answers ?? []).filter(a => a.type === 'A').map(a => (a as { data: unknown }).data as string))
    } catch {}
  })
  sock.send(dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: host, type: 'A', class: 'IN' }] }), 53, server)
  await new Promise(resolve => setTimeout(resolve, windowMs))
  sock.close()
  if (replies.length === 0) return { ok: false, code: 'ETIMEDOUT', message: `no reply within ${windowMs} ms`, replies, ms: Date.now() - t0 }
  return { ok: true, replies, ms: Date.now() - t0 }
}

/** One A query over TCP (RFC 7766 framing); the reply's A records. */
async function doDnsTcp(host: string, server: string, timeoutMs: number): Promise<CheckResult> {
  const t0 = Date.now()
  const id = Math.floor(Math.random() * 65535)
  const q = dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: host, type: 'A', class: 'IN' }] })
  return await new Promise<CheckResult>(resolve => {
    const sock = net.connect({ host: server, port: 53 }, () => sock.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q])))
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => {
      sock.destroy()
      resolve({ ok: false, code: 'ETIMEDOUT', message: `no reply within ${timeoutMs} ms`, ms: Date.now() - t0 })
    }, timeoutMs)
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return
      clearTimeout(timer)
      sock.destroy()
      const p = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)))
      resolve({ ok: true, replies: [(p.answers ?? []).filter(a => a.type === 'A').map(a => (a as { data: unknown }).data as string)], ms: Date.now() - t0 })
    })
    sock.on('error', err => {
      clearTimeout(timer)
      resolve(fail(err, t0))
    })
  })
}

/** A TLS handshake with the given SNI, or none. */
async function doTls(c: Extract<Check, { op: 'tls' }>): Promise<CheckResult> {
  const t0 = Date.now()
  return await new Promise<CheckResult>(resolve => {
    const s = tls.connect({ host: c.ip, port: c.port, ...(c.servername !== null ? { servername: c.servername } : {}), rejectUnauthorized: false })
    const timer = setTimeout(() => {
      s.destroy()
      resolve({ ok: false, code: 'ETIMEDOUT', message: `no handshake within ${c.timeoutMs} ms`, ms: Date.now() - t0 })
    }, c.timeoutMs)
    s.once('secureConnect', () => {
      clearTimeout(timer)
      s.destroy()
      resolve({ ok: true, ms: Date.now() - t0 })
    })
    s.once('error', err => {
      clearTimeout(timer)
      s.destroy()
      resolve(fail(err, t0))
    })
  })
}

async function doFetch(c: Extract<Check, { op: 'fetch' }>): Promise<CheckResult> {
  const t0 = Date.now()
  const url = new URL(c.url)
  const mod = url.protocol === 'https:' ? https : http
  return await new Promise<CheckResult>(resolve => {
    let done = false
    const finish = (r: CheckResult): void => {
      if (!done) {
        done = true
        clearTimeout(timer)
        resolve(r)
      }
    }
    const req = mod.request(
      url,
      {
        method: c.method ?? 'GET',
        family: c.family ?? 4,
        agent: false,
        ca: c.ca !== undefined ? readFileSync(c.ca) : undefined
      },
      res => {
        const chunks: Buffer[] = []
        let bytes = 0
        res.on('data', (d: Buffer) => {
          bytes += d.length
          if (bytes <= 4096) chunks.push(d)
        })
        res.on('end', () => finish({ ok: true, status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: Object.keys(res.headers), bytes, ms: Date.now() - t0 }))
        res.on('error', err => finish(fail(err, t0)))
      }
    )
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`no answer within ${c.timeoutMs} ms`), { code: 'ETIMEDOUT' })
      finish(fail(err, t0))
      req.destroy(err)
    }, c.timeoutMs)
    req.on('error', err => finish(fail(err, t0)))
    req.end(c.method === 'POST' ? '{"to":"+10000000000","text":"lab"}' : undefined)
  })
}

interface SmppSession {
  on: (ev: string, fn: (arg: unknown) => void) => void
  bind_transceiver: (o: object, cb: (pdu: { command_status: number }) => void) => void
  destroy: () => void
}
const smpp = createRequire(import.meta.url)('smpp') as { connect: (o: object) => SmppSession }

async function doSmpp(host: string, timeoutMs: number): Promise<CheckResult> {
  const t0 = Date.now()
  const { address } = await lookup(host, { family: 4 })
  return await new Promise<CheckResult>(resolve => {
    const session = smpp.connect({ host: address, port: 2775 })
    const timer = setTimeout(() => {
      session.destroy()
      resolve({ ok: false, code: 'ETIMEDOUT', message: `no bind_resp within ${timeoutMs} ms`, ms: Date.now() - t0 })
    }, timeoutMs)
    session.on('error', err => {
      clearTimeout(timer)
      session.destroy()
      resolve(fail(err, t0))
    })
    session.on('connect', () => {
      session.bind_transceiver({ system_id: 'lab', password: 'lab' }, pdu => {
        clearTimeout(timer)
        session.destroy()
        resolve({ ok: pdu.command_status === 0, status: pdu.command_status, ms: Date.now() - t0 })
      })
    })
  })
}

async function check(c: Check): Promise<CheckResult> {
  try {
    switch (c.op) {
      case 'lookup':
        return await doLookup(c.host)
      case 'dns':
        return c.tcp === true ? await doDnsTcp(c.host, c.server, c.windowMs) : await doDns(c.host, c.server, c.windowMs)
      case 'tls':
        return await doTls(c)
      case 'fetch':
        return await doFetch(c)
      case 'smpp':
        return await doSmpp(c.host, c.timeoutMs)
    }
  } catch (err) {
    return fail(err, Date.now())
  }
}

const checks = JSON.parse(readFileSync(0, 'utf8')) as Check[]
const results = await Promise.all(checks.map(check))
process.stdout.write(JSON.stringify(results) + '\n')
