// The volunteer commands end to end: `probe init` (consent, validation,
// registration), `probe start` against a real aggregator (runs at once with
// --first-run-within 0, uploads after the run, stops cleanly on SIGTERM), and
// `probe status --json`.
import t from 'tap'
import http from 'node:http'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { testApp } from '../helpers/aggregator-app.ts'
import { main as initMain } from '../../probe/src/commands/init.ts'
import { main as statusMain } from '../../probe/src/commands/status.ts'
import { capture } from '../helpers/capture.ts'

// English whatever the machine's locale (the commands follow it): the assertions read English.
process.env.BLOCKWATCH_LANG = 'en'

t.test('probe init: consent is explicit, values are validated', async t => {
  const dir = t.testdir()
  const cfg = join(dir, 'probe.json')
  const loc = ['--config', cfg, '--data-dir', join(dir, 'state')]
  const headless = await capture(async () => await initMain([...loc, '--no-register']))
  t.equal(headless.code, 2, 'no terminal and no consent flag: refused')
  t.match(headless.err, '--accept-risks')
  const bad = await capture(async () => await initMain([...loc, '--decline', '--no-register', '--nice', '42']))
  t.equal(bad.code, 2)
  t.match(bad.err, '--nice must be a whole number from 0 to 19, got "42"')
  const badCron = await capture(async () => await initMain([...loc, '--decline', '--no-register', '--priority-schedule', 'hourly']))
  t.equal(badCron.code, 1)
  t.match(badCron.err, 'schedules.priority: must be a cron expression')
  const ok = await capture(async () => await initMain([...loc, '--accept-risks', '--no-register', '--aggregator', 'http://bw.example.org', '--region', 'ir-07']))
  t.equal(ok.code, 0)
  t.match(ok.err, 'anyone on the path can see', 'plain http to a remote aggregator warns')
  const written = JSON.parse(readFileSync(cfg, 'utf8'))
  t.match(written, { aggregatorUrl: 'http://bw.example.org', region: 'IR-07', consent: { given: true, textVersion: 1 } })
  const again = await capture(async () => await initMain([...loc, '--accept-risks', '--no-register']))
  t.equal(again.code, 2, 'an existing config is not overwritten without --force')
})

t.test('probe start runs, uploads, and stops cleanly on SIGTERM', async t => {
  const agg = await testApp({ rateLimits: { ingest: { max: 10_000, timeWindow: 60_000 }, probes: { max: 10_000, timeWindow: 60_000 } } })
  t.teardown(agg.close)
  await new Promise<void>(resolve => agg.app.server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(agg.app.server.address() as { port: number }).port}`
  const site = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>local</title>')
  })
  await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    site.close()
  })
  const siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}/`

  const dir = t.testdir()
  const loc = ['--config', join(dir, 'probe.json'), '--data-dir', join(dir, 'state')]
  const init = await capture(async () => await initMain([...loc, '--decline', '--aggregator', url, '--resolver', '127.0.0.1:1', '--max-memory', '0', '--jitter', '0']))
  t.equal(init.code, 0, init.err)
  t.match(init.out, 'registered with')

  const probe = spawn(process.execPath, ['scripts/blockwatch.js', 'probe', 'start', ...loc, '--first-run-within', '0', '--also-measure', siteUrl], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    probe.kill('SIGKILL')
  })
  const msgs: string[] = []
  let uploaded = false
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upload; log: ${msgs.join(' | ')}`)), 120_000)
    createInterface({ input: probe.stdout! }).on('line', line => {
      const o = JSON.parse(line) as { msg: string; accepted?: number }
      msgs.push(o.msg)
      if (o.msg === 'uploaded a batch' && (o.accepted ?? 0) > 0) {
        uploaded = true
        clearTimeout(timer)
        resolve()
      }
    })
  })
  t.ok(uploaded, 'uploaded after the first run')
  t.ok(msgs.indexOf('run finished') < msgs.indexOf('uploaded a batch'), 'the upload follows the run')
  probe.kill('SIGTERM')
  const code = await new Promise<number | null>(resolve => probe.on('exit', c => resolve(c)))
  t.equal(code, 0, 'SIGTERM: clean exit')
  t.ok(msgs.includes('stopped'))

  const status = await capture(async () => await statusMain([...loc, '--json']))
  t.equal(status.code, 0)
  const s = JSON.parse(status.out)
  t.match(s, { consent: false, registered: true, pending: 0, failed: 0, dropped: 0 })
  t.ok(s.uploaded >= 4, `neutral list and the local site uploaded (${s.uploaded})`)
  t.match(s.next_runs, { priority: String, full: String })
  const stored = await agg.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurements')
  t.equal(stored.rows[0].n, s.uploaded)
  // Issue 15: the run took its aggregator's fingerprint list, and every measurement names it.
  const fpAt = msgs.indexOf('fingerprint list updated from the aggregator')
  t.ok(fpAt >= 0 && fpAt < msgs.indexOf('run finished'), "the aggregator's fingerprint list, before the run")
  const versions = await agg.tdb.db.query<{ v: string | null }>("SELECT DISTINCT doc->'annotations'->>'fingerprints_version' AS v FROM measurements")
  t.same(
    versions.rows.map(r => r.v),
    ['ooni-test'],
    "annotations.fingerprints_version: the aggregator's list"
  )
})
