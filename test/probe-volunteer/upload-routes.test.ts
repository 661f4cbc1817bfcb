// Upload that survives a blocked aggregator (issue 17, item 5): several
// addresses of one aggregator tried in order, HTTP(S) proxies beside SOCKS,
// and `probe status` telling which route delivered. Real servers on
// loopback: the aggregator, a "blocked" address (refused, or a censor's
// blockpage), and an HTTP proxy that tunnels (CONNECT) or forwards.
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { testApp } from '../helpers/aggregator-app.ts'
import { REPO_ROOT } from '../helpers/paths.ts'
import { checkIn, register } from '../../probe/src/checkin.ts'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import { flush } from '../../probe/src/upload/uploader.ts'
import { parseConfig, saveConfig } from '../../probe/src/config.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { uuidv7 } from '../../shared/src/uid.ts'
import type { Measurement } from '../../shared/src/measurement.ts'

const doc = (probeId: string): Measurement => ({
  data_format_version: '0.2.0',
  measurement_uid: uuidv7(),
  measurement_start_time: formatOoniTime(Date.now() - 60_000),
  probe_cc: 'ZZ',
  probe_asn: 'AS0',
  probe_id: probeId,
  probe_ip: '127.0.0.1',
  input: 'https://example.com/',
  test_name: 'web_connectivity',
  test_keys: { blocking: false, accessible: true }
})

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

/** A port with nothing listening: connections are refused, as a censor's reset would end them. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  const port = await listen(s)
  await new Promise(resolve => s.close(resolve))
  return port
}

/** An HTTP proxy: CONNECT tunnels and absolute-URI forwarding; counts both. */
function httpProxy(): { server: http.Server; tunnels: number; forwards: number } {
  const state = { server: http.createServer(), tunnels: 0, forwards: 0 }
  state.server.on('request', (req, res) => {
    const target = new URL(req.url ?? '')
    state.forwards++
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers: req.headers }, r => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => {
      res.writeHead(502)
      res.end()
    })
    req.pipe(up)
  })
  state.server.on('connect', (req, sock: net.Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':')
    const up = net.connect(Number(port), host, () => {
      state.tunnels++
      sock.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      up.write(head)
      sock.pipe(up)
      up.pipe(sock)
    })
    up.on('error', () => sock.destroy())
    sock.on('error', () => up.destroy())
  })
  return state
}

t.test('a blocked first address: registration, check-in and upload go through the next, each measurement once', async t => {
  const agg = await testApp({ rateLimits: { ingest: { max: 10_000, timeWindow: 60_000 }, probes: { max: 10_000, timeWindow: 60_000 } } })
  t.teardown(agg.close)
  const url = `http://127.0.0.1:${await listen(agg.app.server)}`
  const refused = `http://127.0.0.1:${await closedPort()}`
  // A censor's blockpage: 200, HTML, for every path.
  let blockpageHits = 0
  const blockpage = http.createServer((_req, res) => {
    blockpageHits++
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<html><title>Access denied</title>This site is blocked.</html>')
  })
  const blocked = `http://127.0.0.1:${await listen(blockpage)}`
  t.teardown(() => {
    blockpage.close()
  })

  const reg = await register([refused, blocked, url], null, { timeoutMs: 5000 })
  t.equal(reg.via, url, 'registered through the third address')

  const dir = t.testdir()
  const outbox = Outbox.open(dir)
  t.teardown(() => {
    outbox.close()
  })
  const ci = await checkIn(outbox, outbox.stats(), { aggregatorUrl: refused, mirrors: [blocked, url], token: reg.token, probeId: reg.probeId, http: { timeoutMs: 5000 }, dataDir: dir })
  t.equal(ci.fresh, true, 'the check-in reached the aggregator through a mirror')

  const uids: string[] = []
  for (let i = 0; i < 30; i++) {
    const d = doc(reg.probeId)
    uids.push(d.measurement_uid!)
    outbox.add(d, false)
  }
  const r = await flush(outbox, { aggregatorUrl: refused, mirrors: [blocked, url], token: reg.token, probeId: reg.probeId, http: { timeoutMs: 5000 }, batchSize: 10 }, false)
  t.equal(r.empty, true, 'the outbox drained')
  t.match(outbox.stats(), { pending: 0, uploaded: 30, duplicates: 0, lastRoute: url })
  t.ok(blockpageHits >= 2, 'the blockpage address was tried and passed over')
  const stored = await agg.tdb.db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d FROM measurements WHERE measurement_uid = ANY($1)', [uids])
  t.same(stored.rows[0], { n: 30, d: 30 }, 'every measurement stored, none twice')

  // Every address blocked: the measurements stay, and the error names each address.
  outbox.add(doc(reg.probeId), false)
  const r2 = await flush(outbox, { aggregatorUrl: refused, mirrors: [blocked], token: reg.token, probeId: reg.probeId, http: { timeoutMs: 5000 } }, false)
  t.equal(r2.empty, false)
  t.match(r2.error, new RegExp(`${new URL(refused).host}: .*; ${new URL(blocked).host}: HTTP 200 with a body that is not JSON`))
  t.equal(outbox.stats().pending, 1, 'kept for the next try')

  // The aggregator's own refusal (a bad token) is not a reason to try another address.
  const before = blockpageHits
  const r3 = await flush(outbox, { aggregatorUrl: url, mirrors: [blocked], token: 'bwp_wrong', probeId: reg.probeId, http: {} }, false)
  t.match(r3.error, /HTTP 401/)
  t.equal(blockpageHits, before, 'a 401 from the aggregator stays with the aggregator')
})

t.test('an HTTP proxy beside SOCKS: forwarding to http://, and the route shown by probe status', async t => {
  const agg = await testApp({ rateLimits: { ingest: { max: 10_000, timeWindow: 60_000 }, probes: { max: 10_000, timeWindow: 60_000 } } })
  t.teardown(agg.close)
  const url = `http://127.0.0.1:${await listen(agg.app.server)}`
  const proxy = httpProxy()
  const proxyUrl = `http://127.0.0.1:${await listen(proxy.server)}`
  t.teardown(() => {
    proxy.server.close()
  })

  const reg = await register(url, null, { proxy: proxyUrl })
  t.ok(proxy.forwards >= 1, 'registration went through the HTTP proxy')
  const dir = t.testdir()
  const outbox = Outbox.open(dir)
  for (let i = 0; i < 5; i++) outbox.add(doc(reg.probeId), false)
  const r = await flush(outbox, { aggregatorUrl: url, token: reg.token, probeId: reg.probeId, http: { proxy: proxyUrl } }, false)
  t.equal(r.empty, true)
  t.equal(outbox.stats().uploaded, 5)
  outbox.close()

  // `probe status` reads the route back from the outbox (never sent anywhere).
  const cfgFile = `${dir}/probe.json`
  saveConfig(cfgFile, { ...parseConfig({ aggregatorUrl: url, aggregatorMirrors: ['https://mirror.example.org'], upload: { proxy: proxyUrl } }, dir), probeId: reg.probeId, token: reg.token } as never)
  const st = spawnSync(process.execPath, ['scripts/blockwatch.js', 'probe', 'status', '--json', '--config', cfgFile, '--data-dir', dir], { cwd: REPO_ROOT, encoding: 'utf8' })
  t.equal(st.status, 0, st.stderr)
  const s = JSON.parse(st.stdout) as { last_route: { via: string } | null; mirrors: string[] }
  t.equal(s.last_route?.via, `${url} via ${proxyUrl}`)
  t.same(s.mirrors, ['https://mirror.example.org'])
})

t.test('an HTTPS aggregator through an HTTP proxy is tunnelled (CONNECT)', async t => {
  // The tunnel is checked with a TLS server on loopback that answers like the aggregator.
  const { createServer } = await import('node:https')
  const dir = t.testdir()
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      `${dir}/key.pem`,
      '-out',
      `${dir}/cert.pem`
    ],
    { encoding: 'utf8' }
  )
  t.equal(made.status, 0, made.stderr)
  const cert = { key: readFileSync(`${dir}/key.pem`, 'utf8'), cert: readFileSync(`${dir}/cert.pem`, 'utf8') }
  let seen = 0
  const tlsAgg = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    seen++
    req.resume()
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ probe_id: 'p-tls', token: 'bwp_tls' }))
    })
  })
  const port = await listen(tlsAgg)
  t.teardown(() => {
    tlsAgg.close()
  })
  const proxy = httpProxy()
  const proxyUrl = `http://127.0.0.1:${await listen(proxy.server)}`
  t.teardown(() => {
    proxy.server.close()
  })
  const reg = await register(`https://127.0.0.1:${port}`, null, { proxy: proxyUrl, caPem: cert.cert })
  t.equal(reg.token, 'bwp_tls')
  t.equal(proxy.tunnels, 1, 'one CONNECT tunnel')
  t.equal(proxy.forwards, 0, 'nothing sent in the clear through the proxy')
  t.equal(seen, 1)
})

t.test('config: mirrors and proxies are checked, naming the key', async t => {
  t.throws(() => parseConfig({ aggregatorMirrors: ['ftp://x'] }, '/tmp'), /aggregatorMirrors\[0\]: must be an http:\/\/ or https:\/\/ URL/)
  t.throws(() => parseConfig({ aggregatorMirrors: 'https://x' }, '/tmp'), /aggregatorMirrors: must be a list/)
  t.throws(() => parseConfig({ upload: { proxy: 'http://proxy.example' } }, '/tmp'), /upload\.proxy: must be a proxy URL with a port/)
  t.equal(parseConfig({ upload: { proxy: 'http://proxy.example:3128' } }, '/tmp').upload.proxy, 'http://proxy.example:3128')
  t.same(parseConfig({}, '/tmp').aggregatorMirrors, [], 'an older config file (no mirrors) still loads')
})
