/**
 * The researcher's cookbook (docs/cookbook.md) run as written (issue 14,
 * item 6): every code block is taken from the Markdown, its base URL
 * replaced by a live aggregator's on loopback, and run as a researcher would
 * (shell blocks with bash, Python with a python3 that has requests and
 * pandas, SQL with DuckDB), one after the other in one directory, so that
 * files one block downloads are there for the next. Each block's output is
 * checked against the database (counts, days, networks), never just its
 * exit status.
 *
 * The data: OONI's real samples (../shared/data), plus bug_352.json (the
 * DNS block of fa.wikipedia.org in Iran, confirmed by a fingerprint)
 * repeated over three days on two networks, between two days of healthy
 * measurements of the same site (the simulator's test keys).
 */
import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { ooniFingerprints, testApp, webKeys } from '../helpers/aggregator-app.ts'
import { testDriver } from '../helpers/db.ts'
import { OONI_SAMPLES } from '../helpers/paths.ts'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { queryEvents } from '../../aggregator/src/timeline/store.ts'
import { networkLabel, networkName } from '../../aggregator/src/names.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

const COOKBOOK = join(REPO_ROOT, 'docs/cookbook.md')
/** The base URL the cookbook is written for. */
const DOC_BASE = 'http://localhost:8080'
const SINCE = '2020-03-01T00:00:00Z'
const UNTIL = '2020-03-06T00:00:00Z'
const STATES = ['blocked', 'likely_blocked', 'impaired', 'ok', 'insufficient', 'down']
/** Blocks that read the export route (GET /api/v1/measurements/export) or its files. */
const NEEDS_EXPORT = ['export-jsonl', 'export-jsonl-pandas', 'export-parquet', 'duckdb-parquet']

/** One runnable block of the cookbook. */
export interface Block {
  id: string
  lang: string
  code: string
}

/** The blocks of a cookbook, each named by the `<!-- cookbook-test: ID -->` line above its fence. */
export function cookbookBlocks(md: string): Block[] {
  const out: Block[] = []
  for (const m of md.matchAll(/<!-- cookbook-test: ([\w-]+) -->\n```(\w+)\n([\s\S]*?)\n```/g)) out.push({ id: m[1], lang: m[2], code: m[3] })
  return out
}

/** A free port on loopback, so that the app's PUBLIC_URL (next_url, links) is its real address. */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number }
        s.close(() => {
          resolve(port)
        })
      })
  })
}

/** The first python3 that imports requests and pandas (Debian's /usr/bin/python3 has them through apt). */
function pythonWithPandas(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import requests, pandas'], { encoding: 'utf8' })
    if (r.status === 0) return py
  }
  return undefined
}

/**
 * Runs a program without blocking the event loop (the aggregator answering
 * it lives in this process): its exit status, stdout and stderr.
 */
async function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return await new Promise(resolve => {
    execFile(cmd, args, { ...opts, encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
      resolve({ status: code, stdout, stderr })
    })
  })
}

const ooniTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')

/** The samples, plus bug_352 (blocked) and healthy measurements of fa.wikipedia.org in IR, 2020-03-01 to 05. */
function documents(): Array<Record<string, unknown>> {
  const files = readdirSync(OONI_SAMPLES)
    .filter(f => f.endsWith('.json'))
    .sort()
  const samples = files.map(f => JSON.parse(readFileSync(OONI_SAMPLES + f, 'utf8')) as Record<string, unknown>)
  const bug352 = samples[files.indexOf('bug_352.json')]
  const docs = [...samples]
  for (let day = 0; day < 5; day++) {
    for (const hour of [2, 8, 14, 20]) {
      for (const asn of ['AS197207', 'AS44244']) {
        const at = Date.parse(SINCE) + day * 86400_000 + hour * 3600_000
        const blocked = day >= 1 && day <= 3
        docs.push({
          ...bug352,
          probe_asn: asn,
          measurement_start_time: ooniTime(at),
          test_start_time: ooniTime(at - 1000),
          report_id: `${new Date(at).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z_webconnectivity_IR_${asn.slice(2)}_n1_cookbook`,
          test_keys: blocked ? bug352.test_keys : webKeys('https://fa.wikipedia.org')
        })
      }
    }
  }
  return docs
}

interface Doc {
  test_keys?: { queries?: Array<{ answers?: Array<{ ipv4?: string }> | null }> | null } | null
}

t.test('every block of the cookbook has a name and runs here', async t => {
  const md = readFileSync(COOKBOOK, 'utf8')
  const blocks = cookbookBlocks(md)
  t.equal(blocks.length, (md.match(/^```\w+$/gm) ?? []).length, 'no code block without a cookbook-test name')
  t.equal(new Set(blocks.map(b => b.id)).size, blocks.length, 'names are unique')
  t.ok(
    blocks.every(b => ['sh', 'python', 'sql'].includes(b.lang)),
    'sh, python or sql'
  )
  t.ok(
    blocks.every(b => b.code.includes(DOC_BASE) || b.lang === 'sql' || b.id === 'export-jsonl-pandas'),
    `each fetching block is written for ${DOC_BASE}`
  )
})

t.test(`the cookbook against a live aggregator (${testDriver()})`, async t => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const { app, tdb, close } = await testApp({ publicUrl: base })
  t.teardown(close)
  const docs = documents()
  const ingested = await ingestBatch(
    tdb.db,
    docs.map(doc => ({ doc })),
    { fingerprints: await ooniFingerprints(), nowMs: Date.now() }
  )
  t.same(ingested.rejected, [], 'the documents import')
  await drainDirty(tdb.db)
  await app.listen({ port, host: '127.0.0.1' })

  // What the blocks must print, from the database.
  const inWindow = "probe_cc = 'IR' AND measurement_start_time >= $1 AND measurement_start_time < $2"
  const site = await tdb.db.query<{ uid: string; t: string; asn: string; day: string; confirmed: boolean }>(
    `SELECT measurement_uid AS uid, measurement_start_time AS t, probe_asn AS asn, to_char(measurement_start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, confirmed
       FROM measurements WHERE ${inWindow} AND domain = 'fa.wikipedia.org' ORDER BY measurement_start_time DESC`,
    [SINCE, UNTIL]
  )
  const n = site.rows.length
  const days = new Set(site.rows.map(r => r.day)).size
  t.ok(n > 30 && days === 5, `${n} measurements of the site over ${days} days`)
  const country = await tdb.db.query<{ asn: string; confirmed: boolean; doc: Doc | string }>(`SELECT probe_asn AS asn, confirmed, doc FROM measurements WHERE ${inWindow}`, [SINCE, UNTIL])
  const countryDocs = country.rows.map(r => ({ ...r, doc: typeof r.doc === 'string' ? (JSON.parse(r.doc) as Doc) : r.doc }))
  const answersOf = (d: Doc): string[] => (d.test_keys?.queries ?? []).flatMap(q => (q.answers ?? []).map(a => a.ipv4)).filter((x): x is string => typeof x === 'string')
  const events = await queryEvents(tdb.db, { probe_cc: 'IR', since: new Date(SINCE), until: new Date(UNTIL), limit: 1000 })
  t.ok(events.length >= 1, 'the block is an event')

  const dir = mkdtempSync(join(tmpdir(), 'bw-cookbook-'))
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const python = pythonWithPandas()
  const hasJq = spawnSync('jq', ['--version']).status === 0
  const hasExport = app.hasRoute({ method: 'GET', url: '/api/v1/measurements/export' })
  const duck = await (await DuckDBInstance.create(':memory:')).connect()
  await duck.run(`SET file_search_path = '${dir.replace(/'/g, "''")}'`)
  // Only loopback: no proxy may carry the examples' requests elsewhere.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', NO_PROXY: '*', no_proxy: '*' }

  const checks: Record<string, (out: string, rows: Array<Record<string, unknown>>) => void> = {
    'list-curl': out => {
      const lines = out
        .trim()
        .split('\n')
        .map(l => l.split('\t'))
      t.equal(lines.length, 5, 'five measurements')
      for (const [, asn, name] of lines) t.equal(name, networkName(asn), `${asn} named`)
      t.same(
        lines.map(l => Date.parse(l[0])),
        site.rows.slice(0, 5).map(r => new Date(r.t).getTime()),
        'the newest five'
      )
    },
    'paging-python': out => {
      t.match(out, `${n} measurements\n${n} distinct`, 'every page, each measurement once')
    },
    'aggregation-pandas': out => {
      t.match(out, /measurement_start_day\s+measurement_count\s+blocked_share/)
      t.match(out, `${days} days, ${n} measurements`, 'one row per day, every measurement counted')
    },
    'timeline-python': out => {
      const lines = out.trim().split('\n')
      t.equal(lines[0], 'Iran fa.wikipedia.org')
      const rows = lines.slice(2).map(l => l.trim().split(/\s+/))
      t.equal(rows.length, days, 'a bucket per day')
      t.ok(
        rows.every(r => STATES.includes(r[1])),
        'each with a state'
      )
      t.equal(
        rows.reduce((a, r) => a + Number(r[2]), 0),
        n,
        'every measurement in a bucket'
      )
      t.ok(
        rows.some(r => r[1] === 'blocked'),
        'the blocked days'
      )
    },
    'events-python': out => {
      const lines = out.trim().split('\n')
      t.equal(lines.length, events.length, 'one line per event')
      for (const e of events) {
        const line = lines.find(l => l.startsWith(e.start_time.replace('.000Z', '')) || l.startsWith(e.start_time))
        t.ok(line, `event ${e.event_id} listed`)
        for (const asn of e.probe_asns) t.match(line ?? '', networkLabel(asn), `${asn} named`)
      }
    },
    'export-jsonl': out => {
      const [count, first] = out.trim().split('\n')
      t.equal(Number(count.trim()), country.rows.length, 'one line per measurement')
      t.match(first, /^\S+\tIR\tweb_connectivity\thttps?:\/\//, 'a whole document')
    },
    'export-jsonl-pandas': out => {
      t.match(out, `${country.rows.length} documents`)
      const want = new Map<string, number>()
      for (const r of countryDocs) for (const a of answersOf(r.doc)) want.set(a, (want.get(a) ?? 0) + 1)
      const got = new Map(
        out
          .trim()
          .split('\n')
          .slice(1)
          .map(l => l.trim().split(/\s+/))
          .map(([ip, c]) => [ip, Number(c)])
      )
      t.same(Object.fromEntries(got), Object.fromEntries(want), 'the DNS answers counted from the documents')
    },
    'export-parquet': out => {
      t.match(out, 'ir-2020-03.parquet')
      const file = readFileSync(join(dir, 'ir-2020-03.parquet'))
      t.equal(file.subarray(0, 4).toString(), 'PAR1', 'a Parquet file')
      t.equal(file.subarray(-4).toString(), 'PAR1')
    },
    'duckdb-parquet': (_out, rows) => {
      const asns = [...new Set(country.rows.map(r => r.asn))].sort()
      t.same(
        rows.map(r => r.probe_asn),
        asns,
        'a row per network'
      )
      for (const r of rows) {
        const mine = countryDocs.filter(x => x.asn === r.probe_asn)
        t.equal(Number(r.measurements), mine.length, `${String(r.probe_asn)}: measurements`)
        t.equal(Number(r.confirmed), mine.filter(x => x.confirmed).length, `${String(r.probe_asn)}: confirmed`)
        t.equal(
          Number(r.distinct_dns_answers),
          new Set(mine.map(x => x.doc.test_keys?.queries?.[0]?.answers?.[0]?.ipv4).filter(x => x !== undefined)).size,
          `${String(r.probe_asn)}: answers read from the document`
        )
      }
    },
    'aggregation-csv-curl': out => {
      t.match(out, /measurement_start_day/)
      t.match(out, /measurement_count/)
    },
    'duckdb-csv': (_out, rows) => {
      t.equal(rows.length, days, 'a row per day')
      t.equal(new Set(rows.map(r => String(r.measurement_start_day))).size, days, 'each day once')
      t.equal(
        rows.reduce((a, r) => a + Number(r.measurement_count), 0),
        n,
        'every measurement counted'
      )
    }
  }

  const blocks = cookbookBlocks(readFileSync(COOKBOOK, 'utf8'))
  t.same(blocks.map(b => b.id).sort(), Object.keys(checks).sort(), 'a check for every block, a block for every check')
  for (const block of blocks) {
    const code = block.code.replaceAll(DOC_BASE, base)
    await t.test(`${block.id} (${block.lang})`, async t => {
      const skip =
        NEEDS_EXPORT.includes(block.id) && !hasExport
          ? 'GET /api/v1/measurements/export is not registered yet'
          : block.lang === 'python' && python === undefined
            ? 'no python3 with requests and pandas: apt-get install python3-requests python3-pandas (.ci/system-deps)'
            : block.lang === 'sh' && code.includes('jq ') && !hasJq
              ? 'jq is not installed (.ci/system-deps)'
              : undefined
      if (skip !== undefined) {
        t.plan(0, skip)
        return
      }
      let out = ''
      let rows: Array<Record<string, unknown>> = []
      if (block.lang === 'sql') {
        rows = (await duck.runAndReadAll(code)).getRowObjectsJson() as Array<Record<string, unknown>>
        out = JSON.stringify(rows)
      } else {
        const file = join(dir, `${block.id}.${block.lang === 'python' ? 'py' : 'sh'}`)
        writeFileSync(file, code + '\n')
        const r = await run(block.lang === 'python' ? python! : 'bash', block.lang === 'python' ? [file] : ['-e', file], { cwd: dir, env })
        t.equal(r.status, 0, `${block.id} exits 0: ${(r.stderr ?? '').slice(-600)}`)
        out = r.stdout
      }
      t.comment(out.slice(0, 2000))
      checks[block.id](out, rows)
    })
  }
})
