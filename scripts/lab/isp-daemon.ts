/**
 * The lab's censoring middleboxes: one process, run in the isp namespace,
 * that iptables' DNAT rules send the client's traffic to:
 * - the DNS middlebox (the client's UDP/53 to each resolver): forges, answers
 *   NXDOMAIN, stays silent, or injects a forgery and then relays the genuine answer;
 * - the blockpage server on 10.10.34.36:80 (status 200 or 403 per Host), and
 *   the unknown blockpage on 10.10.35.35:80 and [fd10:10:35::35]:80 (common
 *   headers only, any Host);
 * - the DNS-over-TCP middlebox (dns-inject-tcp): forges for its names, relays
 *   every other query to the genuine resolver over TCP;
 * - the TLS middlebox with a certificate from a CA nobody trusts;
 * - the delay relays (added round-trip time for throttling and the benchmark).
 *
 * Started by scripts/lab/lab.ts as `ip netns exec <prefix>isp node --import tsx isp-daemon.ts CONFIG`.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram'
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import dnsPacket from 'dns-packet'
import { BLOCKPAGE_200, BLOCKPAGE_403, BLOCKPAGE_PLAIN } from './blockpages.ts'
import { framed, readDnsMessages } from './dns-tcp.ts'
import type { IspConfig, Relay } from './rules.ts'

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as IspConfig

function log(msg: string): void {
  process.stderr.write(`[isp] ${msg}\n`)
}

// ---- DNS middlebox -------------------------------------------------------

const UPSTREAM_TIMEOUT_MS = 5000

function forged(query: dnsPacket.Packet, ip: string): Buffer {
  const q = query.questions![0]!
  return dnsPacket.encode({
    id: query.id,
    type: 'response',
    flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED,
    questions: query.questions,
    answers: [{ name: q.name, type: 'A', ttl: 300, data: ip }]
  })
}

function nxdomain(query: dnsPacket.Packet): Buffer {
  return dnsPacket.encode({ id: query.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | 3, questions: query.questions })
}

/** Sends the query to the genuine resolver and hands its answer back through `sock` (so conntrack makes it come from the resolver). */
function relayDns(sock: UdpSocket, msg: Buffer, rinfo: RemoteInfo, upstream: string): void {
  const out = createSocket('udp4')
  const timer = setTimeout(() => out.close(), UPSTREAM_TIMEOUT_MS)
  out.on('error', () => {
    clearTimeout(timer)
    out.close()
  })
  out.on('message', (reply: Buffer) => {
    clearTimeout(timer)
    out.close()
    const send = (): void => {
      sock.send(reply, rinfo.port, rinfo.address)
    }
    if (config.dnsDelayMs > 0) setTimeout(send, config.dnsDelayMs)
    else send()
  })
  out.send(msg, 53, upstream)
}

async function startDnsMiddlebox(port: number, upstream: string): Promise<void> {
  const sock = createSocket('udp4')
  sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    let query: dnsPacket.Packet
    try {
      query = dnsPacket.decode(msg)
    } catch {
      return
    }
    const q = query.questions?.[0]
    const rule = q === undefined ? undefined : config.dns[q.name.toLowerCase().replace(/\.$/, '')]
    // dns-inject-tcp names are forged over TCP only (startDnsTcpMiddlebox): UDP gets the genuine answer.
    if (rule === undefined || q === undefined || rule.technique === 'dns-inject-tcp') {
      relayDns(sock, msg, rinfo, upstream)
      return
    }
    switch (rule.technique) {
      case 'dns-timeout':
        return
      case 'dns-nxdomain':
        sock.send(nxdomain(query), rinfo.port, rinfo.address)
        return
      case 'dns-forge':
      case 'dns-bogon':
        // Only A is forged; other types get the genuine (empty) answer, as most censors do.
        if (q.type === 'A') sock.send(forged(query, rule.answer!), rinfo.port, rinfo.address)
        else relayDns(sock, msg, rinfo, upstream)
        return
      case 'dns-inject':
        // The forgery at once, then the genuine answer: two replies to one query.
        if (q.type === 'A') sock.send(forged(query, rule.answer!), rinfo.port, rinfo.address)
        relayDns(sock, msg, rinfo, upstream)
    }
  })
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject)
    sock.bind(port, config.listenIp, () => resolve())
  })
}

// ---- DNS over TCP ----------------------------------------------------------

/**
 * The DNS-over-TCP middlebox: the client's TCP/53 to either resolver is
 * DNATed here (only when a target is dns-inject-tcp). For a dns-inject-tcp
 * name it answers the forgery itself and closes, as an on-path injector that
 * races the resolver over TCP does; every other query is relayed to the
 * resolver, over TCP, and its answer handed back.
 */
async function startDnsTcpMiddlebox(port: number): Promise<void> {
  // Both lab resolvers are the same server: relay to the first (conntrack
  // still makes the answer come from the address the client asked).
  const upstreamIp = config.dnsPorts[0]!.upstream
  const server = net.createServer(conn => {
    readDnsMessages(conn, (query, raw) => {
      const q = query.questions?.[0]
      const rule = q === undefined ? undefined : config.dns[q.name.toLowerCase().replace(/\.$/, '')]
      if (rule?.technique === 'dns-inject-tcp' && q?.type === 'A') {
        conn.end(framed(forged(query, rule.answer!)))
        return
      }
      const up = net.connect({ host: upstreamIp, port: 53 }, () => up.write(framed(raw)))
      readDnsMessages(up, (_reply, replyRaw) => {
        conn.write(framed(replyRaw))
        up.destroy()
      })
      up.on('error', () => conn.destroy())
      up.setTimeout(UPSTREAM_TIMEOUT_MS, () => up.destroy())
    })
  })
  await listen(server, config.listenIp, port)
}

// ---- blockpages ----------------------------------------------------------

/** The unknown blockpage: 200, common headers only (Content-Type, and Date that Node adds), for any Host. */
const plainBlockpage: http.RequestListener = (req, res) => {
  req.resume()
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
  res.end(BLOCKPAGE_PLAIN)
}

const blockpage: http.RequestListener = (req, res) => {
  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '')
  const status = config.blockpages[host] ?? 200
  req.resume()
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' })
  res.end(status === 403 ? BLOCKPAGE_403 : BLOCKPAGE_200)
}

// ---- delay relay ---------------------------------------------------------

/** How much the relay buffers towards a slow (throttled) side before it stops reading the other. */
const RELAY_BUFFER_BYTES = 1024 * 1024

/** Pipes `from` into `to`, each chunk `delayMs` late, in order, pausing `from` while `to` is backed up. */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (to.destroyed) return
      if (!to.write(chunk) && to.writableLength > RELAY_BUFFER_BYTES && !from.isPaused()) {
        from.pause()
        to.once('drain', () => from.resume())
      }
    }, delayMs)
  })
  from.on('end', () => {
    setTimeout(() => to.end(), delayMs)
  })
}

function startRelay(r: Relay): net.Server {
  return net.createServer({ pauseOnConnect: false }, client => {
    const upstream = net.connect({ host: r.ip, port: r.port })
    const fail = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', fail)
    upstream.on('error', () => {
      client.resetAndDestroy()
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => setTimeout(() => client.destroy(), r.delayMs))
    delayedPipe(client, upstream, r.delayMs)
    delayedPipe(upstream, client, r.delayMs)
  })
}

async function listen(server: net.Server, ip: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: ip, port, backlog: 1024 }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

async function main(): Promise<void> {
  await Promise.all(
    config.dnsPorts.map(async p => {
      await startDnsMiddlebox(p.port, p.upstream)
    })
  )
  await listen(http.createServer(blockpage), config.blockpageIp, 80)
  await listen(http.createServer(plainBlockpage), config.plainBlockpageIp, 80)
  await listen(http.createServer(plainBlockpage), config.plainBlockpageIp6, 80)
  if (config.dnsTcpPort !== null) await startDnsTcpMiddlebox(config.dnsTcpPort)
  const mitm = https.createServer({ cert: readFileSync(config.mitmCert), key: readFileSync(config.mitmKey) }, blockpage)
  await listen(mitm, config.listenIp, config.mitmPort)
  await Promise.all(
    config.relays.map(async r => {
      await listen(startRelay(r), config.listenIp, r.listenPort)
    })
  )
  writeFileSync(config.readyFile, `${process.pid}\n`)
  log(`ready: ${Object.keys(config.dns).length} DNS rules, ${Object.keys(config.blockpages).length} blockpages, ${config.relays.length} relays`)
}

process.on('SIGTERM', () => process.exit(0))
main().catch((err: Error) => {
  log(`failed: ${err.stack ?? err.message}`)
  process.exit(1)
})
