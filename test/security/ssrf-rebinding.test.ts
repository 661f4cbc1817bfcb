/**
 * Control vantage SSRF (issue 9): DNS rebinding. test/control/control.test.ts
 * covers literal forbidden addresses, names that resolve to them and
 * redirects; this file covers a name whose answer changes between the check
 * and the connection.
 *
 * On loopback, 127.0.0.2 stands for a public address (the only range the
 * guard is told to allow) and 127.0.0.1 for the internal network: a "secret"
 * server listens there on the same port. A loopback DNS server answers
 * rebind names with 127.0.0.2 the first time and 127.0.0.1 ever after. The
 * control must resolve once, check, and connect to the address it checked,
 * so the secret server is never reached, directly or through a redirect.
 */
import t from 'tap'
import { createSocket } from 'node:dgram'
import { createServer, type Server } from 'node:http'
import dnsPacket from 'dns-packet'
import Fastify from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { registerControl } from '../../aggregator/src/control/plugin.ts'
import { freePort } from '../helpers/pg-cluster.ts'

const PUBLIC = '127.0.0.2'
const INTERNAL = '127.0.0.1'

async function listen(server: Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
}

t.test('DNS rebinding cannot reach an internal address, directly or through a redirect', async t => {
  // The loopback DNS server: first A answer public, every later one internal.
  const seen = new Map<string, number>()
  const dns = createSocket('udp4')
  dns.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg)
    const question = q.questions?.[0]
    if (question === undefined) return
    const name = question.name.toLowerCase()
    const answers: dnsPacket.Answer[] = []
    if (question.type === 'A' && name.endsWith('.rebind.test')) {
      const n = (seen.get(name) ?? 0) + 1
      seen.set(name, n)
      answers.push({ type: 'A', class: 'IN', name: question.name, ttl: 0, data: n === 1 ? PUBLIC : INTERNAL })
    } else if (question.type === 'A' && name.endsWith('.internal-first.test')) {
      const n = (seen.get(name) ?? 0) + 1
      seen.set(name, n)
      answers.push({ type: 'A', class: 'IN', name: question.name, ttl: 0, data: n === 1 ? INTERNAL : PUBLIC })
    }
    dns.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), rinfo.port, rinfo.address)
  })
  await new Promise<void>(resolve => dns.bind(0, '127.0.0.1', resolve))
  t.teardown(() => {
    dns.close()
  })
  const dnsPort = dns.address().port

  // The same port on both addresses: a public page, and the secret.
  const port = await freePort()
  let secretHits = 0
  const secret = createServer((_req, res) => {
    secretHits++
    res.end('SECRET internal metadata')
  })
  const pub = createServer((req, res) => {
    if (req.url?.startsWith('/redirect/') === true) {
      res.writeHead(302, { location: `http://${req.url.slice('/redirect/'.length)}:${port}/` })
      res.end()
      return
    }
    res.end('public page')
  })
  await listen(secret, INTERNAL, port)
  await listen(pub, PUBLIC, port)
  t.teardown(() => {
    secret.close()
    pub.close()
  })

  const app = Fastify()
  await app.register(rateLimit, { global: false })
  await registerControl(app, { controlAllow: [`${PUBLIC}/32`], resolver: { host: '127.0.0.1', port: dnsPort }, ownAddresses: [], cacheTtlMs: 1 })
  t.teardown(async () => {
    await app.close()
  })
  const control = async (url: string): Promise<{ status: number; body: string }> => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/control', payload: { http_request: url, tcp_connect: [] } })
    return { status: r.statusCode, body: r.body }
  }

  // Sanity: the guard refuses the internal address itself.
  const direct = await control(`http://${INTERNAL}:${port}/`)
  t.equal(direct.status, 403, 'the internal address is refused when named')

  let cases = 0
  for (let i = 0; i < 5; i++) {
    cases++
    const r = await control(`http://a${i}.rebind.test:${port}/`)
    t.notMatch(r.body, /SECRET/, `rebinding name ${i}: the answer holds no secret (status ${r.status})`)
    // Not vacuous: the control did fetch the public page, at the address it checked.
    t.equal((JSON.parse(r.body) as { http_request?: { status_code?: number } }).http_request?.status_code, 200, 'the public page was fetched')
  }
  for (let i = 0; i < 5; i++) {
    cases++
    const r = await control(`http://${PUBLIC}:${port}/redirect/b${i}.rebind.test`)
    t.notMatch(r.body, /SECRET/, `redirect to rebinding name ${i}: no secret (status ${r.status})`)
  }
  for (let i = 0; i < 3; i++) {
    cases++
    const r = await control(`http://c${i}.internal-first.test:${port}/`)
    t.notMatch(r.body, /SECRET/, `internal first, public after: no secret (status ${r.status})`)
  }
  t.equal(secretHits, 0, 'the internal server was never contacted')
  t.ok(
    [...seen.values()].some(n => n >= 1),
    'the names were resolved through the loopback DNS server'
  )
  t.comment(`ssrf rebinding: ${cases} rebinding attempts (direct, via redirect, internal-first), internal server hits: ${secretHits}`)
})
