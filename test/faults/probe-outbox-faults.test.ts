// The probe's fault test (issue 6, done-when): a real `blockwatch probe start`
// reports into a real aggregator (`blockwatch aggregator serve` on
// PostgreSQL) through a fault proxy, while the aggregator answers 500 and
// 503, closes connections in the middle of a response, is stopped and
// restarted, and is blocked in the lab (isp drops everything) for a while;
// meanwhile the probe is kill -9'ed at random points of its runs and uploads,
// at least 50 times. At the end, after one `probe upload --retry`, the
// aggregator must hold every measurement the probe wrote, each exactly once.
//
// Where network namespaces are not available (not root), the same test runs
// on loopback and "blocked" is the proxy accepting connections and never
// answering (a black hole), which is what a censor's drop looks like too.
//
// This file is also the fault proxy itself, when started with BW_FAULT_PROXY
// set (it runs as a child process, inside the lab's world namespace).
import http from 'node:http'
import { readFileSync } from 'node:fs'

if (process.env.BW_FAULT_PROXY !== undefined) {
  const [listenHost, listenPort, targetHost, targetPort, modeFile] = process.env.BW_FAULT_PROXY.split(',')
  const mode = (): string => {
    try {
      return readFileSync(modeFile, 'utf8').trim()
    } catch {
      return 'ok'
    }
  }
  http
    .createServer((req, res) => {
      const m = mode()
      if (m === 'blackhole') {
        req.resume()
        return
      }
      if (m === 'e500') {
        req.resume()
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}')
        return
      }
      if (m === 'e503') {
        req.resume()
        res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' }).end('{"error":"database unavailable"}')
        return
      }
      const up = http.request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, ures => {
        const chunks: Buffer[] = []
        ures.on('data', (c: Buffer) => chunks.push(c))
        ures.on('end', () => {
          const body = Buffer.concat(chunks)
          const headers = { ...ures.headers, 'content-length': String(body.length) }
          delete headers['transfer-encoding']
          res.writeHead(ures.statusCode ?? 502, headers)
          if (m === 'cut') {
            // The aggregator did the work; the answer is cut off halfway.
            res.write(body.subarray(0, Math.floor(body.length / 2)))
            setTimeout(() => res.socket?.destroy(), 10)
            return
          }
          res.end(body)
        })
      })
      up.on('error', () => {
        res.socket?.destroy()
      }) // aggregator down: the probe sees the connection die
      req.pipe(up)
    })
    .listen(Number(listenPort), listenHost)
} else {
  await runTest()
}

async function runTest(): Promise<void> {
  const { default: t } = await import('tap')
  const { spawn } = await import('node:child_process')
  const { randomBytes } = await import('node:crypto')
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { createInterface } = await import('node:readline')
  const pg = (await import('pg')).default
  const { labUnavailable } = await import('../../scripts/lab/lab.ts')
  const { startLab } = await import('../helpers/lab.ts')
  const { REPO_ROOT } = await import('../helpers/paths.ts')
  const { Outbox } = await import('../../probe/src/outbox/outbox.ts')
  type Child = import('node:child_process').ChildProcess

  const KILLS = Number(process.env.BW_FAULT_KILLS ?? 50)

  t.test('the probe loses nothing and duplicates nothing through faults and 50+ kill -9', async t => {
    const work = mkdtempSync(join(tmpdir(), 'bw-probe-faults-'))
    t.teardown(() => {
      rmSync(work, { recursive: true, force: true })
    })
    const modeFile = join(work, 'mode')
    const setMode = (m: string): void => {
      writeFileSync(modeFile, m)
    }
    setMode('ok')

    // The database: a fresh one on the local PostgreSQL, reached by the
    // aggregator over the unix socket (which works from inside a namespace).
    const dbName = 'bw_fault_' + randomBytes(5).toString('hex')
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    t.teardown(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
      await admin.end()
    })
    const aggDbUrl = `postgres://postgres@localhost/${dbName}?host=/var/run/postgresql`
    const testDb = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` })

    // Where things run: the lab (client → isp → world) or loopback.
    const why = process.env.BW_FAULT_NO_LAB === '1' ? 'BW_FAULT_NO_LAB=1' : await labUnavailable()
    const lab = why === null ? await startLab(t, { prefix: 'bwpfault-', scenario: 'healthy' }) : null
    if (lab === null) t.comment(`no lab (${why ?? 'unavailable'}): running on loopback; "blocked" is a black-holing proxy`)
    const host = lab !== null ? lab.addresses.world : '127.0.0.1'
    const aggPort = 18_000 + Math.floor(Math.random() * 2000)
    const proxyPort = aggPort + 2000
    const inNs = (role: 'client' | 'world', argv: string[]): string[] => (lab !== null ? lab.nsArgv(role, argv) : argv)
    const children = new Set<Child>()
    t.teardown(() => {
      for (const c of children) c.kill('SIGKILL')
    })
    const spawnIn = (role: 'client' | 'world', argv: string[], env: NodeJS.ProcessEnv = {}): Child => {
      const full = inNs(role, argv)
      const c = spawn(full[0], full.slice(1), { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      children.add(c)
      c.on('exit', () => children.delete(c))
      c.stderr?.resume()
      return c
    }
    const exited = async (c: Child): Promise<void> => {
      if (c.exitCode === null && c.signalCode === null) await new Promise(resolve => c.once('exit', resolve))
    }
    const waitHttp = async (url: string, ms: number): Promise<void> => {
      const until = Date.now() + ms
      for (;;) {
        const r = await run(inNs('world', ['node', '-e', `fetch(${JSON.stringify(url)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`]))
        if (r === 0) return
        if (Date.now() > until) throw new Error(`${url} did not come up in ${ms} ms`)
        await sleep(300)
      }
    }
    const run = async (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<number> => {
      const c = spawn(argv[0], argv.slice(1), { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      c.stdout.resume()
      c.stderr.resume()
      return await new Promise(resolve => c.on('exit', code => resolve(code ?? 1)))
    }

    // The aggregator, the fault proxy before it, and a site to measure on loopback.
    let aggregator: Child | null = null
    const startAggregator = async (): Promise<void> => {
      aggregator = spawnIn('world', [process.execPath, 'scripts/blockwatch.js', 'aggregator', 'serve', '--host', host, '--port', String(aggPort)], {
        DATABASE_URL: aggDbUrl,
        LOG_LEVEL: 'silent',
        CONTROL_ALLOW: '10.0.0.0/8,127.0.0.0/8'
      })
      aggregator.stdout?.resume()
      await waitHttp(`http://${host}:${aggPort}/healthz`, 60_000)
    }
    const stopAggregator = async (): Promise<void> => {
      const a = aggregator
      if (a === null) return
      a.kill('SIGTERM')
      await exited(a)
      aggregator = null
    }
    await startAggregator()
    const proxy = spawnIn('world', [process.execPath, '--import', 'tsx', 'test/faults/probe-outbox-faults.test.ts'], { BW_FAULT_PROXY: [host, proxyPort, host, aggPort, modeFile].join(',') })
    proxy.stdout?.resume()
    await waitHttp(`http://${host}:${proxyPort}/healthz`, 30_000)

    let targets: string[]
    let site: http.Server | null = null
    if (lab !== null) {
      targets = [lab.url('healthy'), lab.url('healthy', 'https'), lab.url('healthy-2'), lab.url('healthy-2', 'https')]
    } else {
      const s = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><title>ok</title>hello</html>')
      })
      site = s
      await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
      const p = (s.address() as { port: number }).port
      targets = [`http://127.0.0.1:${p}/a`, `http://127.0.0.1:${p}/b`, `http://127.0.0.1:${p}/c`]
    }
    t.teardown(() => {
      site?.close()
    })
    await testDb.connect()
    t.teardown(async () => {
      await testDb.end()
    })
    const csv = 'url,category_code,category_description,date_added,source,notes\n' + targets.map(u => `${u},NEWS,News,2024-01-01,test,`).join('\n') + '\n'
    await testDb.query("INSERT INTO target_lists (name, csv, rows, version) VALUES ('ZZ', $1, $2, 'v1')", [csv, targets.length])

    // The probe: init (consent, registration through the proxy), then start again and again.
    const cfgFile = join(work, 'probe.json')
    const dataDir = join(work, 'state')
    const probeArgs = ['--config', cfgFile, '--data-dir', dataDir]
    const init = await run(
      inNs('client', [
        process.execPath,
        'scripts/blockwatch.js',
        'probe',
        'init',
        ...probeArgs,
        '--aggregator',
        `http://${host}:${proxyPort}`,
        '--control',
        `http://${host}:${aggPort}`,
        '--accept-risks',
        '--priority-schedule',
        '*/2 * * * * *',
        '--full-schedule',
        '0 0 1 1 *',
        '--jitter',
        '0',
        '--max-memory',
        '0',
        '--nice',
        '0',
        ...(lab !== null ? ['--ca', lab.caFile] : ['--resolver', '127.0.0.1:1'])
      ])
    )
    t.equal(init, 0, 'probe init registered')

    // Phases on a scale of 50 kills (BW_FAULT_KILLS changes the count, not the plan).
    const phaseOf = (k: number): { mode: string; aggregatorUp: boolean; blocked: boolean } => {
      const i = Math.floor((k * 50) / KILLS)
      if (i < 6) return { mode: 'ok', aggregatorUp: true, blocked: false }
      if (i < 12) return { mode: 'e500', aggregatorUp: true, blocked: false }
      if (i < 18) return { mode: 'e503', aggregatorUp: true, blocked: false }
      if (i < 26) return { mode: 'cut', aggregatorUp: true, blocked: false }
      if (i < 31) return { mode: 'ok', aggregatorUp: false, blocked: false }
      if (i < 34) return { mode: 'ok', aggregatorUp: true, blocked: false }
      if (i < 40) return { mode: 'ok', aggregatorUp: true, blocked: true }
      return { mode: ['ok', 'e500', 'e503', 'cut'][i % 4], aggregatorUp: true, blocked: false }
    }
    const setBlocked = async (on: boolean): Promise<void> => {
      if (lab !== null) await lab.setOutage(on)
      else setMode(on ? 'blackhole' : 'ok')
    }

    let blocked = false
    const killedAt = new Map<string, number>()
    const started = Date.now()
    for (let i = 0; i < KILLS; i++) {
      const ph = phaseOf(i)
      if (!ph.aggregatorUp && aggregator !== null) await stopAggregator()
      if (ph.aggregatorUp && aggregator === null) await startAggregator()
      if (ph.blocked !== blocked) {
        await setBlocked(ph.blocked)
        blocked = ph.blocked
      }
      if (!blocked) setMode(ph.mode)
      const probe = spawnIn('client', [process.execPath, 'scripts/blockwatch.js', 'probe', 'start', ...probeArgs, '--first-run-within', '0', '--log-level', 'info', '--no-messaging-list'])
      let last = ''
      let ready: () => void = () => {}
      const isReady = new Promise<void>(resolve => {
        ready = resolve
      })
      createInterface({ input: probe.stdout! }).on('line', line => {
        try {
          const o = JSON.parse(line) as { msg?: string }
          last = o.msg ?? last
        } catch {}
        if (last === 'scheduler started') ready()
      })
      await Promise.race([isReady, sleep(20_000), exited(probe)])
      await sleep(Math.floor(Math.random() * 3000))
      probe.kill('SIGKILL')
      await exited(probe)
      killedAt.set(last || '(starting)', (killedAt.get(last || '(starting)') ?? 0) + 1)
    }
    const faultMs = Date.now() - started
    if (blocked) await setBlocked(false)
    setMode('ok')
    if (aggregator === null) await startAggregator()

    // Drain: one `probe upload --retry` sends whatever is left.
    const drain = await run(inNs('client', [process.execPath, 'scripts/blockwatch.js', 'probe', 'upload', '--retry', ...probeArgs]))
    t.equal(drain, 0, 'probe upload --retry emptied the outbox')

    const outbox = Outbox.open(dataDir)
    const s = outbox.stats()
    const uploaded = outbox.uploadedUids()
    outbox.close()
    const stored = await testDb.query<{ measurement_uid: string; n: number }>('SELECT measurement_uid, count(*)::int AS n FROM measurements GROUP BY measurement_uid')
    const storedSet = new Set(stored.rows.map(r => r.measurement_uid))
    const twice = stored.rows.filter(r => r.n > 1).length
    const missing = uploaded.filter(u => !storedSet.has(u)).length
    const extra = stored.rows.filter(r => !uploaded.includes(r.measurement_uid)).length
    t.comment(
      `kill -9: ${KILLS} over ${(faultMs / 1000).toFixed(0)} s (${lab !== null ? 'lab' : 'loopback'}); the probe's last log line at each kill: ${[...killedAt].map(([k, v]) => `${JSON.stringify(k)} ×${v}`).join(', ')}`
    )
    t.comment(`probe wrote ${s.written}; uploaded ${s.uploaded}, answered as duplicates ${s.duplicates}, pending ${s.pending}, quarantined ${s.quarantined}, dropped ${s.dropped}`)
    t.comment(`aggregator holds ${stored.rows.length} distinct measurements; stored twice ${twice}; missing ${missing}; not written by the probe ${extra}`)
    if (process.env.BW_FAULT_KILLS === undefined) t.ok(KILLS >= 50, 'killed at least 50 times')
    t.ok(s.written > 0, 'the probe wrote measurements')
    t.equal(s.pending, 0, 'nothing pending')
    t.equal(s.quarantined, 0, 'nothing rejected')
    t.equal(s.dropped, 0, 'nothing dropped')
    t.equal(uploaded.length, s.written, 'every measurement written was uploaded')
    t.equal(stored.rows.length, s.written, 'the aggregator holds as many as the probe wrote')
    t.equal(missing, 0, 'none missing')
    t.equal(twice, 0, 'none stored twice')
    t.equal(extra, 0, 'nothing the probe did not write')
    // Whether a cut-off answer happened depends on timing; when it did, the resend was deduplicated (checked above).
    t.comment(s.duplicates > 0 ? `${s.duplicates} measurements were sent again after a lost answer and deduplicated` : 'no answer was lost this time (timing)')

    proxy.kill('SIGKILL')
    await stopAggregator()
  })

  function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms))
  }
}
