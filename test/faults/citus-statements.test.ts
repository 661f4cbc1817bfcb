/**
 * Every statement the aggregator sends, classified for Citus (issue 18,
 * item 4; docs/scale.md, "Every statement, classified").
 *
 * A private cluster loads pg_stat_statements (it needs
 * shared_preload_libraries, so it cannot be the machine's shared server),
 * and the aggregator runs under a role of its own, bw_app, so that what the
 * test itself sends (setup, the capture) is told apart by role. The
 * workload drives every store function: migrations, a simulated week of
 * uploads from registered probes that check in, an OONI sample imported,
 * every GET route of /openapi.json and the dashboard with filters, the
 * admin routes, the event job, blockpage discovery and promotion, the
 * webhook worker against a loopback receiver, rescore, export and archive.
 * Nested statements (those the rollup trigger and the database functions
 * run) are captured too (pg_stat_statements.track = all).
 *
 * The test fails when a captured statement has no name, when its name has
 * no row in docs/scale.md's table, or when the row's classes do not hold
 * what test/helpers/citus-classify.ts finds for it.
 */
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { build } from '../../aggregator/src/app.ts'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { listMigrations, migrate, splitStatements } from '../../aggregator/src/store/migrate.ts'
import { rebuildRollups, staleRows } from '../../aggregator/src/store/measurements.ts'
import { requeueDirty } from '../../aggregator/src/store/timeline.ts'
import { retractEvents } from '../../aggregator/src/store/webhooks.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { startWebhookWorker } from '../../aggregator/src/webhooks/deliver.ts'
import { rescoreAll } from '../../aggregator/src/commands/rescore.ts'
import { main as archiveMain } from '../../aggregator/src/commands/archive.ts'
import { main as exportMain } from '../../aggregator/src/commands/export.ts'
import { main as importOoniMain } from '../../aggregator/src/commands/import-ooni.ts'
import { simulateScenario } from '../../aggregator/src/simulate/post.ts'
import type { Scenario } from '../../aggregator/src/simulate/scenario.ts'
import { classify, loadParser, parseOne, statementName, VERDICTS, type Verdict } from '../helpers/citus-classify.ts'
import { ooniFingerprints, sampleMeasurement } from '../helpers/aggregator-app.ts'
import { pgClusterUnavailable, startPgCluster } from '../helpers/pg-cluster.ts'
import { FINGERPRINTS, OONI_SAMPLES, REPO_ROOT } from '../helpers/paths.ts'

const ROOT = REPO_ROOT

const skip = pgClusterUnavailable()

/** A small scenario: two countries, a day and a half, a national blockpage, a TCP block and an outage. */
const SCENARIO: Scenario = {
  name: 'citus-statements',
  start: '-2d',
  duration_hours: 36,
  interval_minutes: 60,
  background_fp_rate: 0.02,
  seed: 18,
  countries: [
    {
      cc: 'IR',
      networks: [
        { asn: 'AS197207', probes: 2, regions: ['IR-23'] },
        { asn: 'AS44244', probes: 2 }
      ]
    },
    { cc: 'RU', networks: [{ asn: 'AS12389', probes: 2, regions: ['RU-MOW'] }] }
  ],
  targets: [
    { input: 'https://www.facebook.com/', category_code: 'GRP' },
    { input: 'https://twitter.com/', category_code: 'GRP' },
    { input: 'https://www.linkedin.com/', category_code: 'GRP' }
  ],
  episodes: [
    { cc: 'IR', targets: ['https://www.facebook.com/'], technique: 'dns_blockpage', start_hour: 4, end_hour: 30 },
    { cc: 'IR', asns: ['AS197207'], targets: ['https://twitter.com/'], technique: 'tcp_ip', start_hour: 10, end_hour: 36 },
    { cc: 'RU', targets: ['https://www.linkedin.com/'], technique: 'dns_blockpage', start_hour: 2, end_hour: 36 },
    // A blockpage no fingerprint knows (outside IR): anomalous, unconfirmed, a candidate for discovery.
    { cc: 'RU', targets: ['https://twitter.com/'], technique: 'http_blockpage', start_hour: 6, end_hour: 36 }
  ],
  outages: [{ cc: 'IR', asns: ['AS44244'], start_hour: 20, end_hour: 24 }]
}

/** docs/scale.md's table: statement name → the classes it may have. */
function docTable(): Map<string, Set<Verdict>> {
  const md = readFileSync(join(ROOT, 'docs', 'scale.md'), 'utf8')
  const at = md.indexOf('### Every statement, classified')
  const out = new Map<string, Set<Verdict>>()
  if (at < 0) return out
  for (const line of md.slice(at).split('\n').slice(1)) {
    if (line.startsWith('#')) break
    const m = /^\|\s*`([^`]+)`\s*\|\s*([^|]+)\|/.exec(line)
    if (m === null) continue
    const classes = m[2].split(',').map(s => s.trim().replace(/\*/g, '')) as Verdict[]
    for (const c of classes) if (!VERDICTS.includes(c)) throw new Error(`docs/scale.md: ${m[1]}: unknown class ${JSON.stringify(c)} (one of ${VERDICTS.join(', ')})`)
    out.set(m[1], new Set(classes))
  }
  return out
}

/** A statement's shape: its parse tree without positions and constants (pg_stat_statements replaces constants by $n). */
function shape(sql: string): string {
  return JSON.stringify(parseOne(sql), (k, v) =>
    k === 'location' || k === 'stmt_location' || k === 'stmt_len' ? undefined : v !== null && typeof v === 'object' && (v.A_Const !== undefined || v.ParamRef !== undefined) ? '?' : v
  )
}

t.test('every statement the aggregator sends is classified for Citus in docs/scale.md', { skip: skip ?? false, timeout: 600_000 }, async t => {
  await loadParser()
  const cluster = await startPgCluster({
    settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.max': 10000, max_connections: 60 }
  })
  t.teardown(async () => {
    await cluster.destroy()
  })
  await cluster.psql('CREATE ROLE bw_app LOGIN')
  await cluster.psql('CREATE DATABASE bw OWNER bw_app')
  await cluster.psql('CREATE EXTENSION pg_stat_statements', 'bw')
  const url = `postgres://bw_app@127.0.0.1:${cluster.port}/bw`
  const saved = process.env.DATABASE_URL
  process.env.DATABASE_URL = url
  t.teardown(() => {
    if (saved === undefined) delete process.env.DATABASE_URL
    else process.env.DATABASE_URL = saved
  })
  const work = mkdtempSync(join(tmpdir(), 'bw-citus-'))
  t.teardown(() => {
    rmSync(work, { recursive: true, force: true })
  })

  // ---- the workload ----------------------------------------------------------
  const db = await openDatabase({ databaseUrl: url, poolSize: 4 })
  await migrate(db)
  // Migrations run once, on an empty database, before a Citus cluster would
  // distribute anything (the Citus migration is DDL of its own, below in
  // docs/scale.md): counted, then left out. Among them are the old functions
  // later migrations replace (0100's tl_apply_stage), which never run again.
  const atMigration = Number(await cluster.psql("SELECT count(*) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = 'bw_app'", 'bw'))
  t.ok(atMigration > 20, `migrations sent ${atMigration} distinct statements (left out)`)
  await cluster.psql('SELECT pg_stat_statements_reset()', 'bw')
  const fingerprints = await ooniFingerprints()
  const app = await build({ db, publicUrl: 'https://bw.example.org', adminToken: 'admin-secret', fingerprints, jobs: false, logger: false } as Parameters<typeof build>[0])
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const admin = { authorization: 'Bearer admin-secret' }
  const sim = await simulateScenario(base, SCENARIO, Date.now())
  t.ok(sim.accepted > 300, `the simulated uploads were stored (${sim.accepted})`)

  // A probe of our own: check-in, an upload, then revoked.
  const reg = await app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: { software_name: 'blockwatch', software_version: '0.1.0' } })
  const probe = reg.json() as { probe_id: string; token: string }
  const auth = { authorization: `Bearer ${probe.token}` }
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/api/v1/check-in',
        headers: auth,
        payload: { probe_cc: 'IR', probe_asn: 'AS197207', software_name: 'blockwatch', software_version: '0.1.0', pending_measurements: 0 }
      })
    ).statusCode,
    200,
    'check-in'
  )
  const doc = sampleMeasurement(probe.probe_id)
  const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: auth, payload: { measurements: [doc] } })
  t.ok(up.statusCode < 300, `upload: ${up.statusCode}`)
  // A month long gone, for the archive.
  const old = sampleMeasurement(probe.probe_id, { measurement_start_time: '2024-03-05 10:00:00', test_start_time: '2024-03-05 10:00:00' })
  await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: auth, payload: { measurements: [old] } })
  t.equal(await importOoniMain([join(OONI_SAMPLES, 'report1blocked.json'), '--quiet']), 0, 'import-ooni')

  // The jobs: events, webhooks (a loopback receiver), blockpage discovery.
  const hook = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(204)
      res.end()
    })
  })
  await new Promise<void>(resolve => hook.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    hook.close()
  })
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`
  const wh = await app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: admin, payload: { url: hookUrl, description: 'citus' } })
  t.equal(wh.statusCode, 201, `webhook created: ${wh.body.slice(0, 200)}`)
  const webhookId = (wh.json() as { webhook_id: string }).webhook_id
  await drainDirty(db, { fingerprints: async () => fingerprints })
  const worker = startWebhookWorker(db, { publicUrl: 'https://bw.example.org', clock: Date.now }, () => {}, 3_600_000)
  await worker.runNow()
  await worker.stop()
  const disc = await app.inject({ method: 'POST', url: '/api/v1/admin/blockpage-candidates/discover', headers: admin })
  t.ok(disc.statusCode < 300, `discovery: ${disc.statusCode} ${disc.body.slice(0, 120)}`)

  // Every GET route, with the filters that change the SQL.
  const events = (await app.inject({ url: '/api/v1/events?limit=5' })).json() as { results?: Array<{ event_id: string }> }
  const eventId = events.results?.[0]?.event_id ?? 'none'
  const deliveries = (await app.inject({ url: `/api/v1/admin/webhooks/${webhookId}/deliveries`, headers: admin })).json() as { results?: Array<{ delivery_id: string }> }
  const deliveryId = deliveries.results?.[0]?.delivery_id ?? 'none'
  const candidates = (await app.inject({ url: '/api/v1/admin/blockpage-candidates', headers: admin })).json() as { results?: Array<{ id: string }> }
  t.comment(`discovery proposed ${(candidates.results ?? []).length} candidate(s)`)
  const uid = String(doc.measurement_uid)
  const values: Record<string, string> = { uid, id: eventId, cc: 'IR', name: 'IR', file: 'http.csv', probe_id: probe.probe_id, delivery_id: deliveryId }
  const spec = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> }
  const since = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10)
  const until = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
  const urls = Object.entries(spec.paths)
    .filter(([, ops]) => ops.get !== undefined)
    .map(([p]) => p.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? k))
  urls.push(
    '/api/v1/measurements?probe_cc=IR&limit=5',
    '/api/v1/measurements?probe_cc=IR,RU&domain=twitter.com&anomaly=true',
    `/api/v1/measurements?since=${since}&until=${until}&order=asc&limit=3&offset=2`,
    '/api/v1/measurements?report_id=r1',
    `/api/v1/raw_measurement?measurement_uid=${uid}`,
    '/api/v1/raw_measurement?report_id=r1&input=https://www.example.org/',
    `/api/v1/measurement_meta?measurement_uid=${uid}`,
    `/api/v1/aggregation?probe_cc=IR&since=${since}&until=${until}&axis_x=measurement_start_day`,
    `/api/v1/aggregation?axis_x=probe_cc&axis_y=domain&since=${since}&until=${until}`,
    `/api/v1/aggregation?probe_cc=IR&probe_asn=AS197207&axis_x=measurement_start_day&time_grain=hour&since=${since}&until=${until}`,
    `/api/v1/aggregation?category_code=GRP&axis_x=probe_cc&since=${since}&until=${until}`,
    `/api/v1/timelines?probe_cc=IR&since=${since}&until=${until}`,
    `/api/v1/timelines?probe_cc=IR&since=${since}&until=${until}&time_grain=hour&by=asn`,
    `/api/v1/timelines?probe_cc=IR&since=${since}&until=${until}&time_grain=week&by=region&domain=www.facebook.com`,
    `/api/v1/timelines?probe_cc=IR&probe_asn=AS197207&by=region&since=${since}&until=${until}`,
    '/api/v1/events?probe_cc=IR&ongoing=true',
    '/api/v1/events?probe_asn=AS197207&kind=blocking&since=2024-01-01&until=2030-01-01',
    `/api/v1/events/${eventId}`,
    '/api/v1/feeds/events.atom?probe_cc=IR',
    '/api/v1/reports/IR',
    '/api/v1/reports/IR/chart.svg',
    '/api/v1/measurements/export?probe_cc=IR&format=jsonl',
    '/api/v1/measurements/export?format=jsonl',
    '/',
    '/probes',
    '/blockpages',
    '/country/IR',
    `/event/${eventId}`,
    `/measurement/${uid}`,
    '/measurements?probe_cc=IR',
    '/go?cc=IR',
    '/api/v1/admin/probes',
    '/api/v1/admin/webhooks',
    `/api/v1/admin/webhooks/${webhookId}`,
    '/api/v1/target-lists/global',
    '/api/v1/fingerprints'
  )
  for (const u of urls) {
    const r = await app.inject({ url: u, headers: admin })
    t.ok(r.statusCode < 500, `GET ${u}: ${r.statusCode}`)
  }
  // Admin writes.
  const csv = 'url,category_code,category_description,date_added,source,notes\nhttps://www.example.org/,NEWS,News Media,2024-01-01,test,\n'
  const writes: Array<{ method: 'PUT' | 'POST' | 'DELETE'; url: string; payload?: unknown; headers?: Record<string, string> }> = [
    { method: 'PUT', url: '/api/v1/target-lists/IR', payload: csv, headers: { ...admin, 'content-type': 'text/csv' } },
    { method: 'DELETE', url: '/api/v1/target-lists/IR' },
    { method: 'POST', url: `/api/v1/admin/webhooks/${webhookId}/deliveries/${deliveryId}/retry` },
    { method: 'POST', url: `/api/v1/admin/blockpage-candidates/${candidates.results?.[0]?.id ?? 'none'}/promote`, payload: {} },
    { method: 'POST', url: `/api/v1/admin/probes/${probe.probe_id}/revoke` },
    { method: 'DELETE', url: `/api/v1/admin/webhooks/${webhookId}` }
  ]
  for (const w of writes) {
    const r = await app.inject({ method: w.method, url: w.url, payload: w.payload as string | object | undefined, headers: w.headers ?? admin })
    t.ok(r.statusCode < 500, `${w.method} ${w.url}: ${r.statusCode}`)
  }
  // The operators' page signed in with the admin token: every probe's outlier flags.
  const ops = await app.inject({ method: 'POST', url: '/probes', payload: 'token=admin-secret', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(ops.statusCode, 200, "the operators' page with the admin token")
  // An admin's fingerprint list (OONI's files), stored and read back by the probes' route.
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/fingerprints',
    headers: admin,
    payload: { dns_csv: readFileSync(join(FINGERPRINTS, 'fingerprints_dns.csv'), 'utf8'), http_csv: readFileSync(join(FINGERPRINTS, 'fingerprints_http.csv'), 'utf8') }
  })
  t.ok(put.statusCode < 300, `PUT /api/v1/fingerprints: ${put.statusCode}`)
  await app.close()
  // The commands: rescore, export, archive.
  await rescoreAll(db, fingerprints, { staleOnly: false })
  // What only an upgrade or a failure runs: the rollups rebuilt (migrate's
  // upgrade), stale rows counted, a series queued again, an event retracted.
  t.ok((await staleRows(db, 0)) > 0, 'every row counts as stale against a scoring version that never was')
  await rebuildRollups(db)
  await requeueDirty(db, { kind: 'blocking', probe_cc: 'IR', domain: 'www.facebook.com', test_name: 'web_connectivity', anomalous: true }, Number.NEGATIVE_INFINITY)
  if (eventId !== 'none')
    await db.transaction(async tx => {
      await retractEvents(tx, [eventId])
    })
  await db.close()
  t.equal(await exportMain(['--format', 'parquet', '--probe-cc', 'IR', '--output', join(work, 'ir.parquet'), '--quiet']), 0, 'export')
  t.equal(await archiveMain(['--before', '2024-06', '--dir', work]), 0, 'archive')

  // ---- the capture -----------------------------------------------------------
  const rows = (
    await cluster.psql(
      `SELECT json_agg(json_build_object('query', s.query, 'toplevel', s.toplevel, 'calls', s.calls))
    FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = 'bw_app'`,
      'bw'
    )
  ).trim()
  const captured = JSON.parse(rows) as Array<{ query: string; toplevel: boolean; calls: number }>
  t.ok(captured.length > 50, `captured ${captured.length} distinct statements`)
  const migrationShapes = new Set<string>()
  for (const m of listMigrations())
    for (const s of splitStatements(m.sql)) {
      try {
        migrationShapes.add(shape(s))
      } catch {}
    }
  migrationShapes.add(shape('CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())'))

  const table = docTable()
  const unnamed: string[] = []
  const missing = new Map<string, Set<string>>()
  const wrong: string[] = []
  const seen = new Map<string, Set<Verdict>>()
  for (const c of captured) {
    let name = statementName(c.query, c.toplevel)
    if (c.toplevel && name === null) {
      try {
        if (migrationShapes.has(shape(c.query))) name = 'migrate.migration'
      } catch {}
    }
    if (name === null) {
      unnamed.push(c.query.replace(/\s+/g, ' ').slice(0, 300))
      continue
    }
    const got = name === 'migrate.migration' ? { verdict: 'ddl' as Verdict, reason: 'a migration: run once by migrate' } : classify(c.query)
    seen.set(name, (seen.get(name) ?? new Set()).add(got.verdict))
    const doc = table.get(name)
    if (doc === undefined) {
      missing.set(name, (missing.get(name) ?? new Set()).add(`${got.verdict} (${got.reason})`))
      continue
    }
    if (!doc.has(got.verdict)) wrong.push(`${name}: docs/scale.md says ${[...doc].join(', ')}; the classifier finds ${got.verdict}: ${got.reason}\n    ${c.query.replace(/\s+/g, ' ').slice(0, 400)}`)
  }
  t.same(unnamed, [], 'every captured statement has a name (a /* bw:module.function */ comment, or a short or nested statement)')
  // Rows to add, with what the classifier finds, for whoever adds a statement.
  for (const [k, v] of missing) t.comment(`missing row: | \`${k}\` | ${[...v].join('; ')} |`)
  t.same([...missing.keys()], [], 'every statement name has a row in docs/scale.md ("Every statement, classified")')
  t.same(wrong, [], "docs/scale.md's classes hold the classifier's verdict for every captured statement")
  const counts: Record<string, number> = {}
  for (const v of seen.values()) for (const x of v) counts[x] = (counts[x] ?? 0) + 1
  t.comment(`names seen: ${seen.size}; by class: ${JSON.stringify(counts)}`)
  const unseen = [...table.keys()].filter(k => !seen.has(k))
  if (unseen.length > 0) t.comment(`rows of docs/scale.md no statement of this run matched: ${unseen.join(', ')}`)
})
