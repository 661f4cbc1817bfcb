/**
 * The lab's world: one process, run in the world namespace, that serves every
 * target (HTTP on 80 and HTTPS on 443 of the target's own address, or SMPP on
 * 2775), the resolver for lab.test (both resolver addresses), and a control
 * socket (a Unix socket in the state dir) through which `lab stop-site` /
 * `start-site` close or reopen one target's listeners: the "site down" case.
 *
 * Started by scripts/lab/lab.ts as `ip netns exec <prefix>world node --import tsx world-daemon.ts CONFIG`.
 */
import { createSocket, type RemoteInfo } from 'node:dgram'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { createRequire } from 'node:module'
import net, { type Server } from 'node:net'
import dnsPacket from 'dns-packet'
import { framed, readDnsMessages } from './dns-tcp.ts'
import { clientHelloSni, helloRecord } from './tls-hello.ts'
import type { WorldConfig, WorldSite } from './rules.ts'

/** The part of the smpp package's API the lab uses (it ships no types). */
interface SmppPdu {
  command: string
  response: (opts?: Record<string, unknown>) => unknown
}
interface SmppSession {
  on: (ev: string, fn: (pdu: SmppPdu) => void) => void
  send: (pdu: unknown) => void
  close: () => void
}
interface SmppServer extends Server {
  sessions: SmppSession[]
}
interface SmppModule {
  createServer: (listener: (session: SmppSession) => void) => SmppServer
}

const smpp = createRequire(import.meta.url)('smpp') as SmppModule

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WorldConfig
const tlsOptions = { cert: readFileSync(config.cert), key: readFileSync(config.key) }

function log(msg: string): void {
  process.stderr.write(`[world] ${msg}\n`)
}

// ---- sites ---------------------------------------------------------------

const PAGE = (host: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>${host}</title></head>
<body><h1>${host}</h1><p>A healthy site of the blockwatch lab.</p></body></html>
`
const MAX_BYTES = 64 * 1024 * 1024

function siteHandler(site: WorldSite): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', `http://${site.host}`)
    if (!site.commonHeadersOnly) res.setHeader('x-lab-target', site.name)
    const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname)
    if (bytes !== null) {
      const n = Math.min(Number(bytes[1]), MAX_BYTES)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n })
      const chunk = Buffer.alloc(Math.min(n, 65536), 0x61)
      let left = n
      const pump = (): void => {
        while (left > 0) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left)
          left -= part.length
          if (!res.write(part)) {
            res.once('drain', pump)
            return
          }
        }
        res.end()
      }
      pump()
      return
    }
    if (url.pathname === '/api/v1/sms') {
      if (req.method === 'POST') {
        req.resume()
        req.on('end', () => {
          res.writeHead(202, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ status: 'accepted', id: `lab-${Date.now()}`, gateway: site.host }))
        })
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ service: 'sms-api', gateway: site.host }))
      return
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(req.method === 'HEAD' ? undefined : PAGE(site.host))
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
  }
}

function smppSession(session: SmppSession): void {
  let n = 0
  const ok = (pdu: SmppPdu, extra: Record<string, unknown> = {}): void => {
    session.send(pdu.response(extra))
  }
  session.on('pdu', pdu => {
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver':
        ok(pdu, { system_id: 'blockwatch-lab' })
        break
      case 'submit_sm':
        ok(pdu, { message_id: `lab-${++n}` })
        break
      case 'enquire_link':
        ok(pdu)
        break
      case 'unbind':
        ok(pdu)
        session.close()
        break
      default:
        break
    }
  })
  session.on('error', () => {})
}

/** The servers running per address (several names may share one), keyed by the address. */
const running = new Map<string, Server[]>()

/** The sites served on one address, the one named first taking a request for an unknown Host. */
function sitesAt(ip: string): WorldSite[] {
  return config.sites.filter(s => s.ip === ip)
}

function byHost(sites: WorldSite[]): http.RequestListener {
  const handlers = new Map(sites.map(s => [s.host, siteHandler(s)]))
  return (req, res) => {
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '')
    ;(handlers.get(host) ?? handlers.get(sites[0]!.host)!)(req, res)
  }
}

async function listen(server: Server, ip: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: ip, port, backlog: 1024 }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

async function listening(server: Server, ip: string, port: number): Promise<Server> {
  await listen(server, ip, port)
  return server
}

/**
 * The HTTPS front of an address whose server refuses a ClientHello without
 * SNI (issue 15), as many real servers do: it reads the first record and
 * resets the connection when no server_name is in it; any other goes on,
 * bytes as read, to the HTTPS server, which listens on world's loopback.
 * (Node's TLS server reads its socket's handle directly, so the bytes
 * cannot be pushed back into the socket and handed over.)
 */
function requireSni(backendPort: () => number): Server {
  return net.createServer(conn => {
    conn.on('error', () => {})
    let buf = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      const record = helloRecord(buf)
      if (record === null && buf.length < 16384) return
      conn.off('data', onData)
      if (record === null || clientHelloSni(record) === null) {
        conn.resetAndDestroy()
        return
      }
      conn.pause()
      const up = net.connect({ host: '127.0.0.1', port: backendPort() }, () => {
        up.write(buf)
        conn.pipe(up)
        up.pipe(conn)
        conn.resume()
      })
      up.on('error', () => conn.destroy())
      conn.on('close', () => up.destroy())
    }
    conn.on('data', onData)
  })
}

async function startSite(site: WorldSite): Promise<void> {
  if (running.has(site.ip)) return
  const servers: Server[] = []
  running.set(site.ip, servers)
  // One server per address and port: IPv4, and IPv6 when the site has it.
  const ips = site.ip6 === undefined ? [site.ip] : [site.ip, site.ip6]
  if (site.kind === 'smpp') {
    for (const ip of ips) servers.push(await listening(smpp.createServer(smppSession), ip, 2775))
    return
  }
  const sites = sitesAt(site.ip)
  for (const ip of ips) {
    const h = http.createServer(byHost(sites))
    const s = https.createServer(tlsOptions, byHost(sites))
    h.keepAliveTimeout = s.keepAliveTimeout = 2000
    servers.push(h, s)
    if (!sites.some(x => x.requireSni)) {
      await Promise.all([listen(h, ip, 80), listen(s, ip, 443)])
      continue
    }
    const front = requireSni(() => (s.address() as net.AddressInfo).port)
    servers.push(front)
    await Promise.all([listen(h, ip, 80), listen(s, '127.0.0.1', 0), listen(front, ip, 443)])
  }
}

/** Stops the servers of a site's address: every name on it goes down. */
async function stopSite(site: WorldSite): Promise<void> {
  const servers = running.get(site.ip)
  if (servers === undefined) return
  running.delete(site.ip)
  await Promise.all(
    servers.map(async srv => {
      const closing = new Promise<void>(resolve => srv.close(() => resolve()))
      if ('closeAllConnections' in srv) (srv as http.Server).closeAllConnections()
      for (const sess of (srv as SmppServer).sessions ?? []) sess.close()
      await closing
    })
  )
}

// ---- DNS -----------------------------------------------------------------

const records = new Map<string, string>(Object.entries(config.records))
const records6 = new Map<string, string>(Object.entries(config.records6 ?? {}))
const names = new Set<string>([...records.keys(), ...records6.keys()])
for (const s of config.sites) {
  names.add(s.host)
  if (s.noA !== true) records.set(s.host, s.ip)
  if (s.ip6 !== undefined) records6.set(s.host, s.ip6)
}
const soa = { name: config.zone, type: 'SOA' as const, ttl: 60, data: { mname: `ns.${config.zone}`, rname: `hostmaster.${config.zone}`, serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 } }

/** The resolver's answer to one query: authoritative for the lab zone, SERVFAIL elsewhere (the lab has no Internet). */
function answer(query: dnsPacket.Packet): Buffer {
  const q = query.questions?.[0]
  const base = { id: query.id, type: 'response' as const, questions: query.questions }
  if (q === undefined) return dnsPacket.encode({ ...base, flags: dnsPacket.RECURSION_AVAILABLE | 1 })
  const name = q.name.toLowerCase().replace(/\.$/, '')
  const inZone = name === config.zone || name.endsWith('.' + config.zone)
  const flags = dnsPacket.RECURSION_AVAILABLE | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED)
  if (!inZone) return dnsPacket.encode({ ...base, flags: flags | 2 /* SERVFAIL */ })
  if (!names.has(name) && name !== config.zone) return dnsPacket.encode({ ...base, flags: flags | dnsPacket.AUTHORITATIVE_ANSWER | 3 /* NXDOMAIN */, authorities: [soa] })
  const ip = q.type === 'A' ? records.get(name) : q.type === 'AAAA' ? records6.get(name) : undefined
  if (ip !== undefined) return dnsPacket.encode({ ...base, flags: flags | dnsPacket.AUTHORITATIVE_ANSWER, answers: [{ name: q.name, type: q.type as 'A' | 'AAAA', ttl: 60, data: ip }] })
  return dnsPacket.encode({ ...base, flags: flags | dnsPacket.AUTHORITATIVE_ANSWER, authorities: [soa] })
}

/** DNS over TCP (RFC 7766 framing). isp intercepts it only in a scenario with a dns-inject-tcp target. */
function startDnsTcp(ip: string): Promise<void> {
  const server = net.createServer(conn => {
    readDnsMessages(conn, query => {
      conn.write(framed(answer(query)))
    })
  })
  return listen(server, ip, 53)
}

async function startDns(ip: string): Promise<void> {
  await startDnsTcp(ip)
  const sock = createSocket('udp4')
  sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    let query: dnsPacket.Packet
    try {
      query = dnsPacket.decode(msg)
    } catch {
      return
    }
    sock.send(answer(query), rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject)
    sock.bind(53, ip, () => resolve())
  })
}

// ---- control socket ------------------------------------------------------

function control(): http.Server {
  return http.createServer((req, res) => {
    const m = /^\/sites\/([a-z0-9-]+)\/(stop|start)$/.exec(req.url ?? '')
    const site = m === null ? undefined : config.sites.find(s => s.name === m[1])
    if (req.method !== 'POST' || m === null || site === undefined) {
      res.writeHead(404).end(JSON.stringify({ error: 'POST /sites/NAME/stop or /sites/NAME/start with a known NAME' }))
      return
    }
    const op = m[2] === 'stop' ? stopSite(site) : startSite(site)
    op.then(
      () => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ site: site.name, running: running.has(site.ip) }))
      },
      (err: Error) => {
        res.writeHead(500).end(JSON.stringify({ error: err.message }))
      }
    )
  })
}

async function main(): Promise<void> {
  await Promise.all(config.resolvers.map(startDns))
  await Promise.all(config.sites.filter(s => !s.down).map(startSite))
  rmSync(config.controlSocket, { force: true })
  await new Promise<void>(resolve => control().listen(config.controlSocket, resolve))
  writeFileSync(config.readyFile, `${process.pid}\n`)
  log(`ready: ${config.sites.length} sites, resolvers ${config.resolvers.join(', ')}`)
}

process.on('SIGTERM', () => {
  rmSync(config.controlSocket, { force: true })
  process.exit(0)
})
main().catch((err: Error) => {
  log(`failed: ${err.stack ?? err.message}`)
  process.exit(1)
})
