/**
 * Upload that survives a blocked aggregator, in the censorship lab (issue 17,
 * item 5): the probe runs in the client namespace, one aggregator runs in
 * world on a PostgreSQL database of the host, and isp blocks its addresses
 * with the lab's own techniques.
 *
 * - Mirrors: the probe's first address (agg-1) is reset by isp (tcp-reset on
 *   its port), the second (agg-2) is open. Registration and every batch go
 *   through agg-2.
 * - Proxy: both of the probe's addresses are blocked, the first (a TLS front,
 *   https://front…) by tcp-reset, the second (agg-3) by DNS forgery. The
 *   measurements wait in the outbox while nothing gets through, then go
 *   through an HTTP proxy in world (CONNECT to the front).
 * - Lost answer: the first address (a front) passes a batch on and cuts the
 *   answer; the batch goes again to the second, which says it is already
 *   there (the aggregator deduplicates by measurement_uid).
 * - Both down a while: agg-1 still reset, the aggregator itself stopped;
 *   `probe upload --retry` backs off and delivers once it is back.
 *
 * Either way each measurement the probe made is in the database exactly once
 * (counted by measurement_uid), and `probe status --json` names the route
 * that delivered.
 */
import t from 'tap'
import type { ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { startLab, type Lab, type Scenario } from '../helpers/lab.ts'

/** The aggregator's port in world: it listens on every world address, so each target name below is one of its addresses. */
const AGG_PORT = 8081
const FRONT_PORT = 8443
const PROXY_PORT = 3128
/** The front that loses answers: not AGG_PORT, which the aggregator holds on every world address. */
const LOSSY_PORT = 8082

const scenario: Scenario = {
  name: 'upload-mirrors',
  description: 'one aggregator at several addresses, some blocked; a proxy outside the censor',
  targets: [
    { name: 'agg-1', technique: 'tcp-reset', ports: [AGG_PORT] },
    { name: 'agg-2' },
    { name: 'agg-3', technique: 'dns-forge' },
    { name: 'front', technique: 'tcp-reset', ports: [FRONT_PORT] },
    { name: 'proxy' },
    { name: 'lossy' },
    // What the probe measures.
    { name: 'site' },
    { name: 'censored', technique: 'http-reset' }
  ]
} as Scenario

const PG_SOCKET = '/var/run/postgresql/.s.PGSQL.5432'
const adminUrl = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '' ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/postgres'

/**
 * A database of its own on the host's PostgreSQL, which world reaches over
 * the Unix socket; null when there is none. One name, like the lab's prefix:
 * two runs of this file at once would collide on the lab anyway, and a run
 * killed before its teardown leaves nothing behind for the next one.
 */
async function makeDatabase(): Promise<{ name: string } | null> {
  if (!existsSync(PG_SOCKET)) return null
  const c = new pg.Client({ connectionString: adminUrl })
  try {
    await c.connect()
  } catch {
    return null
  }
  const name = 'bw_lab_mirrors'
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.query(`CREATE DATABASE ${name}`)
  } finally {
    await c.end()
  }
  return { name }
}

async function dropDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  } finally {
    await c.end()
  }
}

/** Starts a long-running process in a namespace and resolves once `ready` matches its output; the output so far stays readable. */
async function startDaemon(lab: Lab, what: string, argv: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = lab.spawn('world', argv, { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString()
  })
  child.stderr!.on('data', (b: Buffer) => {
    out += b.toString()
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what} did not start within ${timeoutMs} ms: ${out.slice(-1000)}`))
    }, timeoutMs)
    const check = (): void => {
      if (ready.test(out)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`${what} exited (${String(code)}) before it was ready: ${out.slice(-1000)}`))
    })
  })
  return { child, output: () => out }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
  }, 10_000)
  await gone
  clearTimeout(timer)
}

interface Status {
  pending: number
  uploaded: number
  duplicates: number
  failed: number
  last_error: string | null
  last_route: { via: string; at: string } | null
}

const db = await makeDatabase()
if (db === null) {
  t.plan(0, `skip: no PostgreSQL on ${PG_SOCKET} (the aggregator in world reaches the host's server only over its Unix socket)`)
} else {
  t.teardown(async () => {
    await dropDatabase(db.name)
  })
  const lab = await startLab(t, { prefix: 'bwmirror-', scenario })
  if (lab !== null) await main(lab, db.name)
}

async function main(lab: Lab, dbName: string): Promise<void> {
  const started = Date.now()
  const ip = (name: string): string => lab.target(name).ip
  const host = (name: string): string => lab.target(name).host
  const startAggregator = async (): Promise<ChildProcess> =>
    (
      await startDaemon(
        lab,
        'the aggregator',
        [process.execPath, 'scripts/blockwatch.js', 'aggregator', 'serve', '--host', '0.0.0.0', '--port', String(AGG_PORT), '--control-allow', '10.10.0.0/16', '--ca', lab.caFile],
        {
          DATABASE_URL: `postgres://postgres@localhost/${dbName}?host=/var/run/postgresql`,
          NODE_EXTRA_CA_CERTS: lab.caFile,
          LOG_FORMAT: 'pretty'
        },
        /listening on/,
        180_000
      )
    ).child
  let aggregator = await startAggregator()
  t.teardown(async () => {
    await stop(aggregator)
  })
  t.comment(`the aggregator in world started in ${Date.now() - started} ms`)
  const relays = await startDaemon(
    lab,
    'the proxy and the front',
    [
      process.execPath,
      '--import',
      'tsx',
      'test/fixtures/servers/upload-relays.ts',
      JSON.stringify({
        proxy: `${ip('proxy')}:${PROXY_PORT}`,
        front: `${ip('front')}:${FRONT_PORT}`,
        backend: `${ip('agg-2')}:${AGG_PORT}`,
        cert: join(lab.stateDir, 'site.pem'),
        key: join(lab.stateDir, 'site.key'),
        lossy: `${ip('lossy')}:${LOSSY_PORT}`
      })
    ],
    {},
    /^ready$/m,
    60_000
  )
  t.teardown(async () => {
    await stop(relays.child)
  })
  const relayLog = (): Array<{ kind: string; target?: string; url?: string }> =>
    relays
      .output()
      .split('\n')
      .filter(l => l.startsWith('{'))
      .map(l => JSON.parse(l) as { kind: string })

  const count = async (uids: string[]): Promise<{ rows: number; distinct: number }> => {
    const u = new URL(adminUrl)
    u.pathname = '/' + dbName
    const c = new pg.Client({ connectionString: u.toString() })
    await c.connect()
    try {
      const r = await c.query<{ rows: number; distinct: number }>('SELECT count(*)::int AS rows, count(DISTINCT measurement_uid)::int AS distinct FROM measurements WHERE measurement_uid = ANY($1)', [
        uids
      ])
      return r.rows[0]!
    } finally {
      await c.end()
    }
  }

  const work = mkdtempSync(join(tmpdir(), 'bw-lab-mirrors-'))
  chmodSync(work, 0o755)
  t.teardown(() => {
    rmSync(work, { recursive: true, force: true })
  })
  const list = join(work, 'targets.csv')
  const urls = [`http://${host('site')}/`, `https://${host('site')}/`, `tcp://${host('site')}:80`, `dns://${host('site')}`, `http://${host('censored')}/`, `https://${host('censored')}/`]
  writeFileSync(list, 'url,category_code,category_description,date_added,source,notes\n' + urls.map(u => `${u},MISC,,,,`).join('\n') + '\n')

  const probe = async (dir: string, argv: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    await lab.exec('client', [process.execPath, 'scripts/blockwatch.js', 'probe', ...argv, '--config', join(dir, 'probe.json'), '--data-dir', dir], {
      timeoutMs,
      env: { LC_ALL: 'C', LC_MESSAGES: '', LANG: 'C' }
    })
  const status = async (dir: string): Promise<Status> => {
    const r = await probe(dir, ['status', '--json'])
    if (r.code !== 0) throw new Error(`probe status: ${r.stderr}`)
    return JSON.parse(r.stdout) as Status
  }
  /** Small batches, so that one flush is several requests and the route is kept between them. */
  const smallBatches = (dir: string, extra: (cfg: { upload: Record<string, unknown> }) => void = () => {}): void => {
    const file = join(dir, 'probe.json')
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as { upload: Record<string, unknown> }
    cfg.upload.batchSize = 2
    extra(cfg)
    writeFileSync(file, JSON.stringify(cfg, null, 2))
  }
  const uidsOf = (file: string): string[] =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map(l => (JSON.parse(l) as { measurement_uid: string }).measurement_uid)

  t.test('the first address is reset by the censor: everything goes through the second, once', async t => {
    const first = `http://${host('agg-1')}:${AGG_PORT}`
    const second = `http://${host('agg-2')}:${AGG_PORT}`
    const dir = join(work, 'mirrors')
    const init = await probe(dir, ['init', '--aggregator', first, '--mirror', second, '--ca', lab.caFile, '--accept-risks'])
    t.equal(init.code, 0, 'probe init registers', { stderr: init.stderr })
    t.match(init.stdout, second, 'registered through the second address')
    smallBatches(dir)

    const out = join(dir, 'out.jsonl')
    const run = await probe(dir, ['run', '--targets', list, '--resolver', lab.resolver, '--control', second, '--fingerprints', 'none', '--output', out, '--upload'])
    t.equal(run.code, 0, 'probe run --upload exits 0', { stderr: run.stderr })
    const uids = uidsOf(out)
    t.equal(uids.length, urls.length, 'one measurement per target')

    const st = await status(dir)
    t.match(st, { pending: 0, uploaded: uids.length, duplicates: 0, failed: 0 }, 'the outbox drained, nothing refused')
    t.equal(st.last_route?.via, second, 'probe status names the second address')
    t.same(await count(uids), { rows: uids.length, distinct: uids.length }, 'every measurement in the database, none twice')

    // The first address really is blocked from the client (and not just slower).
    const direct = await probe(dir, ['upload'])
    t.equal(direct.code, 0, 'an upload with nothing pending succeeds')
    const again = await status(dir)
    t.equal(again.uploaded, uids.length, 'nothing sent again')
    t.same(await count(uids), { rows: uids.length, distinct: uids.length }, 'still once each')

    const alone = join(work, 'first-only')
    const blocked = await probe(alone, ['init', '--aggregator', first, '--ca', lab.caFile, '--accept-risks'])
    t.equal(blocked.code, 1, 'the first address alone: no registration')
    t.match(blocked.stderr, /ECONNREFUSED/, "the censor's reset shows as refused")
  })

  t.test('both addresses blocked: the measurements wait, then go through an HTTP proxy, once', async t => {
    const first = `https://${host('front')}:${FRONT_PORT}`
    const second = `http://${host('agg-3')}:${AGG_PORT}`
    const proxyUrl = `http://${host('proxy')}:${PROXY_PORT}`
    const dir = join(work, 'proxy')
    const init = await probe(dir, ['init', '--aggregator', first, '--mirror', second, '--upload-proxy', proxyUrl, '--ca', lab.caFile, '--accept-risks'])
    t.equal(init.code, 0, 'probe init registers through the proxy', { stderr: init.stderr })
    t.match(init.stdout, first, 'registered at the first address, through the proxy')

    // The volunteer runs without the proxy first: nothing gets through, nothing is lost.
    smallBatches(dir, cfg => {
      cfg.upload.proxy = null
    })
    const out = join(dir, 'out.jsonl')
    const run = await probe(dir, ['run', '--targets', list, '--resolver', lab.resolver, '--fingerprints', 'none', '--output', out, '--upload'])
    t.equal(run.code, 0, 'probe run exits 0 even though the upload failed', { stderr: run.stderr })
    const uids = uidsOf(out)
    t.equal(uids.length, urls.length, 'one measurement per target')
    const waiting = await status(dir)
    t.equal(waiting.pending, uids.length, 'every measurement waits in the outbox')
    t.equal(waiting.uploaded, 0, 'nothing counted as uploaded')
    // tcp-reset on the front's port; agg-3's name is forged to isp's blockpage address, which has nothing on the port.
    t.match(waiting.last_error, new RegExp(`${host('front')}:${FRONT_PORT}: .*ECONNREFUSED.*; ${host('agg-3')}:${AGG_PORT}: .*ECONNREFUSED`), 'the error names both addresses')
    t.same(await count(uids), { rows: 0, distinct: 0 }, 'nothing reached the database')

    const before = relayLog().length
    const up = await probe(dir, ['upload', '--upload-proxy', proxyUrl])
    t.equal(up.code, 0, 'probe upload through the proxy exits 0', { stderr: up.stderr })
    const st = await status(dir)
    t.match(st, { pending: 0, uploaded: uids.length, duplicates: 0, failed: 0 }, 'the outbox drained')
    t.equal(st.last_route?.via, `${first} via ${proxyUrl}`, 'probe status names the address and the proxy')
    t.same(await count(uids), { rows: uids.length, distinct: uids.length }, 'every measurement in the database, none twice')
    const seen = relayLog().slice(before)
    t.ok(
      seen.some(e => e.kind === 'connect' && e.target === `${host('front')}:${FRONT_PORT}`),
      'the proxy tunnelled (CONNECT) to the front'
    )
    t.notOk(
      seen.some(e => e.kind === 'forward'),
      'nothing went through the proxy in the clear'
    )
    t.ok(
      seen.some(e => e.kind === 'front'),
      'the front passed it on to the aggregator'
    )
  })

  t.test('the answer is lost after the first address stored a batch: the second says "already there", none twice', async t => {
    const first = `http://${host('lossy')}:${LOSSY_PORT}`
    const second = `http://${host('agg-2')}:${AGG_PORT}`
    const dir = join(work, 'lossy')
    const before = relayLog().filter(e => e.kind === 'lost').length
    // Registration loses its answer too, and registers again at the second address.
    const init = await probe(dir, ['init', '--aggregator', first, '--mirror', second, '--ca', lab.caFile, '--accept-risks'])
    t.equal(init.code, 0, 'probe init registers', { stderr: init.stderr })
    t.match(init.stdout, second, 'registered through the second address')
    smallBatches(dir)
    const out = join(dir, 'out.jsonl')
    const run = await probe(dir, ['run', '--targets', list, '--resolver', lab.resolver, '--control', second, '--fingerprints', 'none', '--output', out, '--upload'])
    t.equal(run.code, 0, 'probe run --upload exits 0', { stderr: run.stderr })
    const uids = uidsOf(out)
    t.equal(uids.length, urls.length, 'one measurement per target')
    const lost = relayLog().filter(e => e.kind === 'lost').length - before
    t.equal(lost, 2, 'two answers lost: the registration and the first batch (the flush then keeps to the second address)')
    const st = await status(dir)
    // The first batch (2) was stored through the lossy front; the second address said so.
    t.match(st, { pending: 0, duplicates: 2, failed: 0 }, 'the outbox drained; the resent batch counted as already there')
    t.equal(st.last_route?.via, second, 'probe status names the second address')
    t.same(await count(uids), { rows: uids.length, distinct: uids.length }, 'every measurement in the database, none twice')
  })

  t.test('the second address down for a while too: probe upload --retry backs off and delivers once it is back, once', async t => {
    const first = `http://${host('agg-1')}:${AGG_PORT}`
    const second = `http://${host('agg-2')}:${AGG_PORT}`
    const dir = join(work, 'retry')
    const init = await probe(dir, ['init', '--aggregator', first, '--mirror', second, '--ca', lab.caFile, '--accept-risks'])
    t.equal(init.code, 0, 'probe init registers', { stderr: init.stderr })
    smallBatches(dir)
    // The aggregator stops: agg-1 is still reset by isp, agg-2 now refuses too.
    await stop(aggregator)
    const out = join(dir, 'out.jsonl')
    const run = await probe(dir, ['run', '--targets', list, '--resolver', lab.resolver, '--fingerprints', 'none', '--output', out, '--upload'])
    t.equal(run.code, 0, 'probe run exits 0 with the upload failed', { stderr: run.stderr })
    const uids = uidsOf(out)
    t.equal((await status(dir)).pending, uids.length, 'every measurement waits in the outbox')

    const retrying = lab.spawn('client', [process.execPath, 'scripts/blockwatch.js', 'probe', 'upload', '--retry', '--config', join(dir, 'probe.json'), '--data-dir', dir], {
      env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: '', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    t.teardown(async () => {
      await stop(retrying)
    })
    let said = ''
    retrying.stdout!.on('data', (b: Buffer) => {
      said += b.toString()
    })
    retrying.stderr!.on('data', (b: Buffer) => {
      said += b.toString()
    })
    const exited = new Promise<number | null>(resolve => {
      retrying.once('exit', code => {
        resolve(code)
      })
    })
    // Let it fail and back off at least once before the aggregator comes back.
    for (let i = 0; i < 600 && !/will retry/.test(said); i++) await new Promise(resolve => setTimeout(resolve, 100))
    t.match(said, /will retry/, 'the upload failed and waits (backoff)')
    aggregator = await startAggregator()
    // A timer of our own, cleared: a pending one would keep this file's process alive for its whole length.
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>(resolve => {
        timer = setTimeout(() => {
          resolve('timeout')
        }, 180_000)
      })
    ])
    clearTimeout(timer)
    t.equal(code, 0, 'probe upload --retry ends once the outbox is delivered', { output: said })
    const st = await status(dir)
    t.match(st, { pending: 0, uploaded: uids.length, duplicates: 0, failed: 0, last_error: null }, 'the outbox drained, the error cleared')
    t.equal(st.last_route?.via, second, 'probe status names the second address')
    t.same(await count(uids), { rows: uids.length, distinct: uids.length }, 'every measurement in the database, none twice')
  })
}
