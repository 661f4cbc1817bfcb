/**
 * Runs inside the lab's client namespace (`ip netns exec <prefix>client`),
 * started by probe.ts, which reads this process's RSS from /proc.
 *
 *   probe-worker.ts probe|bare N CONCURRENCY RESOLVER CA_FILE SITES [CONTROL_URL]
 *
 * - probe: blockwatch's engine, measure() from probe/src/engine.ts, on N
 *   web_connectivity targets https://site-XXX.lab.test/?n=K (round robin over
 *   SITES hosts), streamed from a generator (never a list in memory), each
 *   measurement written as a JSON line to a file as `probe run --output` does.
 * - bare: the minimal client: for each target the same steps through the
 *   same delay: DNS A and AAAA over UDP in parallel, TCP connect and TLS
 *   handshake (then closed, as the probe's handshake step does), then a new
 *   TCP + TLS connection carrying GET, read to the end. Same concurrency.
 *
 * Prints one JSON line: {ms, count, ok, failures, rss_peak}.
 */
import dgram from 'node:dgram'
import { createWriteStream, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dnsPacket from 'dns-packet'
import { measure } from '../../probe/src/engine.ts'
import type { Target } from '../../shared/src/target-list.ts'

const [mode, nArg, concArg, resolver, caFile, sitesArg, controlUrl] = process.argv.slice(2)
const n = Number(nArg)
const concurrency = Number(concArg)
const sites = Number(sitesArg)
const ca = readFileSync(caFile!, 'utf8')
/** One context for every handshake, as the probe does since fd92a75. */
const secureContext = tls.createSecureContext({ ca })

const host = (k: number): string => `site-${String((k % sites) + 1).padStart(3, '0')}.lab.test`
const urlOf = (k: number): string => `https://${host(k)}/?n=${k}`

function* targets(): Generator<Target> {
  for (let k = 0; k < n; k++) {
    yield { url: urlOf(k), domain: host(k), test_name: 'web_connectivity', category_code: 'MISC', category_description: '', date_added: '', source: 'bench', notes: '' }
  }
}

/** Failure strings seen by the probe, counted ("operation: failure"). */
const failureKinds: Record<string, number> = {}

async function runProbe(): Promise<{ count: number; ok: number; failures: number }> {
  const out = join(tmpdir(), `blockwatch-bench-probe-${process.pid}.jsonl`)
  const file = createWriteStream(out)
  let count = 0
  let ok = 0
  let failures = 0
  try {
    for await (const m of measure(targets(), { resolver: resolver!, caPem: ca, concurrency, controlUrl: controlUrl ?? null })) {
      count++
      const tk = m.test_keys as Record<string, unknown>
      // ok: the GET came back 200 (the verdict needs the control vantage; without it, it is null)
      const reqs = (tk.requests ?? []) as Array<{ response?: { code?: number } | null }>
      if (reqs.at(-1)?.response?.code === 200) ok++
      const f = tk.dns_experiment_failure ?? tk.http_experiment_failure ?? null
      if (f !== null) {
        failures++
        const k = `${String(tk.x_failed_operation ?? '?')}: ${String(f)}`
        failureKinds[k] = (failureKinds[k] ?? 0) + 1
      }
      if (!file.write(JSON.stringify(m) + '\n'))
        await new Promise<void>(resolve => {
          file.once('drain', () => {
            resolve()
          })
        })
    }
  } finally {
    await new Promise<void>(resolve => {
      file.end(() => {
        resolve()
      })
    })
    rmSync(out, { force: true })
  }
  return { count, ok, failures }
}

// ---- the bare client ---------------------------------------------------------

let dnsId = 0
async function dnsQuery(name: string, type: 'A' | 'AAAA'): Promise<string[]> {
  const sock = dgram.createSocket('udp4')
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('dns timeout'))
      }, 5000)
      sock.on('message', msg => {
        clearTimeout(timer)
        const r = dnsPacket.decode(msg)
        resolve((r.answers ?? []).filter(a => a.type === type).map(a => String((a as { data?: unknown }).data)))
      })
      sock.on('error', reject)
      dnsId = (dnsId + 1) & 0xffff
      sock.send(dnsPacket.encode({ type: 'query', id: dnsId, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), 53, resolver!)
    })
  } finally {
    sock.close()
  }
}

async function tlsConnect(ip: string, servername: string): Promise<tls.TLSSocket> {
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: ip, port: 443, autoSelectFamily: false })
    s.once('connect', () => {
      resolve(s)
    })
    s.once('error', reject)
  })
  return await new Promise<tls.TLSSocket>((resolve, reject) => {
    const t = tls.connect({ socket: sock, servername, secureContext, ALPNProtocols: ['http/1.1'] })
    t.once('secureConnect', () => {
      resolve(t)
    })
    t.once('error', reject)
  })
}

async function bareOne(k: number): Promise<boolean> {
  const name = host(k)
  const [a] = await Promise.all([dnsQuery(name, 'A'), dnsQuery(name, 'AAAA')])
  const ip = a[0]
  if (ip === undefined) return false
  const hs = await tlsConnect(ip, name)
  hs.destroy()
  const t = await tlsConnect(ip, name)
  return await new Promise<boolean>((resolve, reject) => {
    const chunks: Buffer[] = []
    t.on('data', (c: Buffer) => chunks.push(c))
    t.once('end', () => {
      t.destroy()
      resolve(Buffer.concat(chunks).toString('latin1').startsWith('HTTP/1.1 200'))
    })
    t.once('error', reject)
    t.write(`GET /?n=${k} HTTP/1.1\r\nHost: ${name}\r\nUser-Agent: bench\r\nAccept: */*\r\nConnection: close\r\n\r\n`)
  })
}

async function runBare(): Promise<{ count: number; ok: number; failures: number }> {
  let next = 0
  let count = 0
  let ok = 0
  let failures = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const k = next++
        try {
          if (await bareOne(k)) ok++
          else failures++
        } catch {
          failures++
        }
        count++
      }
    })
  )
  return { count, ok, failures }
}

const t0 = process.hrtime.bigint()
const r = mode === 'probe' ? await runProbe() : await runBare()
const ms = Number(process.hrtime.bigint() - t0) / 1e6
process.stdout.write(JSON.stringify({ ms, ...r, failure_kinds: failureKinds, rss_peak: process.resourceUsage().maxRSS * 1024 }) + '\n')
