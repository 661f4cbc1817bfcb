/**
 * Fault (issue 9): slow and greedy clients. Against a real listening
 * aggregator with short limits (build({limits})): slowloris connections that
 * never finish their headers, silent connections, bodies trickled a byte at a
 * time, oversized headers, oversized and decompression-bomb bodies are all
 * closed within the limits, while a well-behaved client keeps being served
 * throughout. A last test checks that the production defaults are set.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { build, DEFAULT_SERVER_LIMITS } from '../../aggregator/src/app.ts'
import { freshDb } from '../helpers/db.ts'

const LIMITS = { connectionTimeoutMs: 1500, headersTimeoutMs: 1000, requestTimeoutMs: 2500, keepAliveTimeoutMs: 500, maxHeaderBytes: 8192, checkIntervalMs: 200 }
const SLACK_MS = 1500

/** Opens a raw connection; resolves with the socket once connected. */
async function open(port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      resolve(s)
    })
    s.once('error', reject)
  })
}

/** Resolves with how long after `since` the socket was closed by the server, and what it answered. */
async function closedAfter(s: Socket, since: number): Promise<{ ms: number; answer: string }> {
  return await new Promise(resolve => {
    let answer = ''
    s.on('data', (d: Buffer) => {
      answer += d.toString('latin1')
    })
    s.on('error', () => {})
    s.once('close', () => {
      resolve({ ms: Date.now() - since, answer })
    })
  })
}

t.test('slow clients are cut off within the limits while others are served', async t => {
  const tdb = await freshDb({ migrate: false }) // every request here is refused before the database
  t.teardown(async () => {
    await tdb.close()
  })
  const app = await build({ db: tdb.db, publicUrl: 'http://127.0.0.1', jobs: false, limits: LIMITS })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
  })
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  const base = `http://127.0.0.1:${port}`

  // A well-behaved client, all along (stopped in teardown whatever happens).
  let served = 0
  let failed = 0
  let worstMs = 0
  let stop = false
  const good = (async () => {
    while (!stop) {
      const t0 = Date.now()
      try {
        const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(3000) })
        if (r.status === 200) served++
        else failed++
        await r.arrayBuffer()
      } catch {
        failed++
      }
      worstMs = Math.max(worstMs, Date.now() - t0)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  })()
  t.teardown(async () => {
    stop = true
    await good
  })

  const timers: NodeJS.Timeout[] = []
  t.teardown(() => {
    for (const x of timers) clearInterval(x)
  })

  // Slowloris: headers that never end, one more line every 300 ms.
  const slowloris = await Promise.all(
    Array.from({ length: 40 }, async () => {
      const s = await open(port)
      const since = Date.now()
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n')
      let i = 0
      timers.push(
        setInterval(() => {
          if (!s.destroyed) s.write(`X-Slow-${i++}: a\r\n`)
        }, 300)
      )
      return await closedAfter(s, since)
    })
  )
  // Silent connections: connect and say nothing.
  const silent = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const s = await open(port)
      return await closedAfter(s, Date.now())
    })
  )
  // A trickled body: one byte every 200 ms (never idle long enough for the idle timeout).
  const trickled = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const s = await open(port)
      const since = Date.now()
      s.write('POST /api/v1/probes/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{')
      timers.push(
        setInterval(() => {
          if (!s.destroyed) s.write(' ')
        }, 200)
      )
      return await closedAfter(s, since)
    })
  )

  const max = (xs: Array<{ ms: number }>): number => Math.max(...xs.map(x => x.ms))
  t.ok(max(slowloris) <= LIMITS.headersTimeoutMs + SLACK_MS, `40 slowloris connections closed within the headers limit (last after ${max(slowloris)} ms)`)
  t.ok(
    slowloris.every(x => x.answer === '' || x.answer.startsWith('HTTP/1.1 408')),
    'answered 408 or nothing'
  )
  t.ok(max(silent) <= Math.max(LIMITS.connectionTimeoutMs, LIMITS.headersTimeoutMs) + SLACK_MS, `10 silent connections closed (last after ${max(silent)} ms)`)
  t.ok(max(trickled) <= LIMITS.requestTimeoutMs + SLACK_MS, `5 trickled bodies closed within the request limit (last after ${max(trickled)} ms)`)

  // Oversized headers: 431, connection closed.
  {
    const s = await open(port)
    const since = Date.now()
    s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    const r = await closedAfter(s, since)
    t.match(r.answer, /^HTTP\/1\.1 431/, `a 20 kB header is answered 431 (${r.ms} ms)`)
  }
  // Oversized bodies: refused from the declared length, before reading them.
  {
    const r = await fetch(`${base}/api/v1/probes/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(11 * 1024 * 1024, 0x20) })
    t.equal(r.status, 413, 'an 11 MiB body on an open route: 413')
    await r.arrayBuffer()
  }
  {
    const s = await open(port)
    const since = Date.now()
    s.write('POST /api/v1/measurements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 50000000\r\n\r\n')
    const r = await closedAfter(s, since)
    t.match(r.answer, /^HTTP\/1\.1 413/, `a declared 50 MB upload is refused at once (${r.ms} ms)`)
  }
  stop = true
  await good
  t.equal(failed, 0, `the well-behaved client was never refused (${served} requests served, slowest ${worstMs} ms)`)
  t.ok(served >= 10, 'and it was served all along')
  t.comment(
    `slow clients: 40 slowloris closed after ≤ ${max(slowloris)} ms, 10 silent after ≤ ${max(silent)} ms, 5 trickled bodies after ≤ ${max(trickled)} ms; ${served} normal requests served meanwhile, none refused, slowest ${worstMs} ms`
  )
})

t.test('the production defaults are set on the server', async t => {
  const tdb = await freshDb({ migrate: false }) // every request here is refused before the database
  t.teardown(async () => {
    await tdb.close()
  })
  const app = await build({ db: tdb.db, publicUrl: 'http://127.0.0.1', jobs: false })
  t.teardown(async () => {
    await app.close()
  })
  const s = app.server
  t.equal(s.headersTimeout, DEFAULT_SERVER_LIMITS.headersTimeoutMs, 'headers timeout')
  t.equal(s.requestTimeout, DEFAULT_SERVER_LIMITS.requestTimeoutMs, 'request timeout')
  t.equal(s.timeout, DEFAULT_SERVER_LIMITS.connectionTimeoutMs, 'idle connection timeout')
  t.equal(s.keepAliveTimeout, DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs, 'keep-alive timeout')
  t.equal((s as unknown as { maxHeaderSize: number }).maxHeaderSize, DEFAULT_SERVER_LIMITS.maxHeaderBytes, 'header size limit')
  t.ok(DEFAULT_SERVER_LIMITS.headersTimeoutMs <= 30_000 && DEFAULT_SERVER_LIMITS.requestTimeoutMs <= 600_000, 'finite, bounded limits')

  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  // A decompression bomb: 150 MiB of zeros in about 150 kB of gzip.
  {
    // Decompressed, it would pass the 10 MiB limit on what is sent; the limit on
    // what is inflated (100 MiB) must stop it.
    const bomb = gzipSync(Buffer.alloc(150 * 1024 * 1024))
    const r = await fetch(`${base}/api/v1/measurements`, { method: 'POST', headers: { authorization: 'Bearer x', 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, body: bomb })
    t.equal(r.status, 413, `a gzip bomb (${bomb.length} bytes inflating to 150 MiB) is refused with 413`)
    await r.arrayBuffer()
  }
})
