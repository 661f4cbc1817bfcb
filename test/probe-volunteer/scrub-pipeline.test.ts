// The scrub test (issue 6, done-when): the probe's public address, learned at
// check-in, planted by a site in a response body and in a header, never
// reaches the outbox. The engine is the real one; the check-in endpoint is a
// loopback stand-in for the aggregator (the uploader seam) that reports the
// address the way an aggregator behind NAT would see it.
import t from 'tap'
import http from 'node:http'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import pino from 'pino'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import { parseConfig } from '../../probe/src/config.ts'
import { runList, type ProbeRuntime } from '../../probe/src/schedule.ts'
import { ADDRESS_FILE } from '../../probe/src/checkin.ts'
import { measure } from '../../probe/src/engine.ts'

const PLANTED = '198.51.100.23'

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

t.test('the probe address planted in a body and a header never reaches the outbox', async t => {
  const site = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'x-forwarded-for': PLANTED, 'x-your-ip': `you are ${PLANTED}` })
    res.end(`<html><title>What is my IP</title><body>Your address is ${PLANTED}. Thanks.</body></html>`)
  })
  const sitePort = await listen(site)
  t.teardown(() => {
    site.close()
  })
  const csv = `url,category_code,category_description,date_added,source,notes\nhttp://127.0.0.1:${sitePort}/myip,CTRL,Control,2024-01-01,test,\n`
  let checkIns = 0
  let serverSkewMs = 0
  const aggregator = http.createServer((req, res) => {
    req.resume() // the bodies are not read; draining them lets 'end' fire
    req.on('end', () => {
      if (req.url === '/api/v1/check-in') {
        checkIns++
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ probe_cc: 'ZZ', probe_asn: 'AS0', server_time: new Date(Date.now() + serverSkewMs).toISOString(), probe_ip: PLANTED, target_lists: { ZZ: { csv, version: 'v1' } } }))
      } else {
        res.writeHead(503).end()
      }
    })
  })
  const aggPort = await listen(aggregator)
  t.teardown(() => {
    aggregator.close()
  })

  const dir = t.testdir()
  const cfg = parseConfig({ aggregatorUrl: `http://127.0.0.1:${aggPort}`, consent: { given: true, textVersion: 1, at: null }, token: 'tok', probeId: 'p1', resolver: '127.0.0.1:1' }, dir)
  const outbox = Outbox.open(dir)
  t.teardown(() => {
    outbox.close()
  })
  const rt: ProbeRuntime = { cfg, outbox, logger: pino({ level: 'silent' }), http: { timeoutMs: 5000 }, measure, signal: new AbortController().signal }
  const r = await runList(rt, 'priority')
  t.equal(checkIns, 1)
  t.equal(r.written, 1, 'the measurement was written')
  const [item] = [...outbox.pending()]
  const doc = JSON.parse(item.doc)
  t.equal(doc.probe_ip, '127.0.0.1')
  t.equal(doc.annotations.clock_corrected, false)
  t.match(item.doc, '[scrubbed]', 'the planted address was replaced')
  t.notMatch(item.doc, PLANTED)

  // A device whose clock is an hour behind: the times are corrected and the correction recorded.
  serverSkewMs = 3_600_000
  const before = Date.now()
  const r2 = await runList(rt, 'priority')
  t.equal(r2.checkIn.fresh, true)
  t.ok(Math.abs(r2.checkIn.clockOffsetMs - 3_600_000) < 5000, `offset measured (${r2.checkIn.clockOffsetMs} ms)`)
  const second = [...outbox.pending()].map(i => JSON.parse(i.doc)).find(d => d.measurement_uid !== doc.measurement_uid)
  t.equal(second.annotations.clock_corrected, true)
  t.equal(second.annotations.clock_offset_ms, r2.checkIn.clockOffsetMs)
  const start = new Date(second.measurement_start_time.replace(' ', 'T') + 'Z').getTime()
  t.ok(start - before > 3_500_000, "measurement_start_time is on the server's clock")
  outbox.close()
  t.ok(readdirSync(dir).some(f => f.startsWith('outbox.sqlite')))
  // Nothing on disk holds it either (database, WAL, cached lists), but the
  // private address book kept outside the outbox so that it can be scrubbed offline.
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    if (f === ADDRESS_FILE) {
      t.match(readFileSync(join(dir, f), 'utf8'), PLANTED, 'kept outside the outbox, to scrub while offline')
      continue
    }
    let bytes: Buffer
    try {
      bytes = readFileSync(join(dir, f))
    } catch {
      continue
    }
    t.notOk(bytes.includes(PLANTED), `${f} does not hold the address`)
  }
})

t.test("`probe run --output FILE` is scrubbed like the outbox: the config's scrub list, the control from its aggregator", async t => {
  const site = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'x-your-ip': PLANTED })
    res.end(`<html><title>What is my IP</title><body>Your IP address is ${PLANTED}.</body></html>`)
  })
  const sitePort = await listen(site)
  t.teardown(() => {
    site.close()
  })
  // The configured aggregator answers the control: the run needs no --control.
  let controls = 0
  const aggregator = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url !== '/api/v1/control') {
        res.writeHead(404).end()
        return
      }
      controls++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          dns: { failure: null, addrs: ['127.0.0.1'] },
          tcp_connect: { [`127.0.0.1:${sitePort}`]: { status: true, failure: null } },
          http_request: { body_length: 120, failure: null, title: 'What is my IP', headers: { 'x-your-ip': 'x' }, status_code: 200 },
          ip_info: {}
        })
      )
    })
  })
  const aggPort = await listen(aggregator)
  t.teardown(() => {
    aggregator.close()
  })
  const dir = t.testdir()
  const cfgFile = join(dir, 'probe.json')
  writeFileSync(cfgFile, JSON.stringify({ aggregatorUrl: `http://127.0.0.1:${aggPort}`, scrubAddresses: [PLANTED], resolver: '127.0.0.1:1' }))
  const list = join(dir, 'list.csv')
  writeFileSync(list, `url,category_code,category_description,date_added,source,notes\nhttp://127.0.0.1:${sitePort}/myip,CTRL,Control,2024-01-01,test,\n`)
  const out = join(dir, 'out.jsonl')
  // A child process (the servers above answer from this one's event loop).
  const r = await new Promise<{ code: number; stderr: string }>(resolve => {
    execFile(
      process.execPath,
      ['scripts/blockwatch.js', 'probe', 'run', '--config', cfgFile, '--data-dir', join(dir, 'state'), '--targets', list, '--fingerprints', 'none', '--output', out],
      { env: { ...process.env, XDG_CONFIG_HOME: dir, XDG_STATE_HOME: dir } },
      (err, _stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stderr })
    )
  })
  t.equal(r.code, 0, r.stderr)
  t.equal(controls, 1, 'the configured aggregator was asked as the control')
  const text = readFileSync(out, 'utf8')
  const doc = JSON.parse(text.trim())
  t.equal(doc.test_keys.blocking, false, `a verdict, not null (reason ${doc.test_keys.verdict_reason})`)
  t.match(text, '[scrubbed]', 'the planted address was replaced')
  t.notOk(text.includes(PLANTED), 'the output file does not hold the address')
})
