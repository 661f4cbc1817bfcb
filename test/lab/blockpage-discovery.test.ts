/**
 * Blockpage discovery end to end in the lab (issue 15, Deliver 2): the
 * probe measures the `unknown-blockpage` scenario (one page no fingerprint
 * knows, 10.10.35.35, served for six unrelated targets by a forged DNS
 * answer or in-path, beside healthy targets and sites), its measurements
 * are ingested, discovery proposes the page with its evidence, an admin
 * promotes it, and the past measurements come out confirmed. Healthy
 * targets never become candidates. Needs root (startLab skips otherwise).
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { registerProbe, testApp } from '../helpers/aggregator-app.ts'
import { startLab } from '../helpers/lab.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'

const lab = await startLab(t, { prefix: 'bwbpd-', scenario: 'unknown-blockpage', control: true, shared: true })

if (lab !== null) {
  t.test('an unknown blockpage served for many targets is proposed, promoted, and its history confirmed', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-lab-bpd-'))
    chmodSync(dir, 0o755)
    const web = lab.targets.filter(x => x.kind === 'web' && !x.down)
    const blocked = web
      .filter(x => x.technique === 'dns-forge-plain' || x.technique === 'http-blockpage-plain')
      .map(x => x.host)
      .sort()
    const healthy = web.filter(x => x.technique === null).map(x => x.host)
    t.equal(blocked.length, 6, 'six targets behind the unknown blockpage')
    t.ok(healthy.length >= 6, `${healthy.length} healthy targets and sites`)
    const list = join(dir, 'targets.csv')
    writeFileSync(list, 'url,category_code,category_description,date_added,source,notes\n' + web.map(x => `http://${x.host}/,NEWS,,,,`).join('\n') + '\n')
    const out = join(dir, 'out.jsonl')
    const r = await lab.exec(
      'client',
      [
        process.execPath,
        'scripts/blockwatch.js',
        'probe',
        'run',
        '--targets',
        list,
        '--resolver',
        lab.resolver,
        '--control',
        lab.controlUrl!,
        '--ca',
        lab.caFile,
        '--fingerprints',
        FINGERPRINTS,
        '--concurrency',
        '16',
        '--cc',
        'IR',
        '--asn',
        'AS64512',
        '--output',
        out
      ],
      { timeoutMs: 120_000 }
    )
    t.equal(r.code, 0, `probe run exits 0 ${r.stderr.slice(0, 500)}`)
    // A known country: OONI's rule never confirms a measurement from ZZ (unknown).
    const docs = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as Record<string, unknown>)
    t.equal(docs.length, web.length, 'one measurement per target')

    const { app, tdb, close } = await testApp()
    t.teardown(close)
    const { probe_id: probeId, token } = await registerProbe(app)
    const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: docs.map(d => ({ ...d, probe_id: probeId })) })
    t.equal(up.statusCode, 200, up.body)
    t.equal(up.json().accepted, docs.length)
    const before = await tdb.db.query<{ domain: string; anomaly: boolean; confirmed: boolean; verdict_reason: string }>(
      'SELECT domain, anomaly, confirmed, verdict_reason FROM measurements ORDER BY domain'
    )
    t.comment(JSON.stringify(before.rows.map(x => [x.domain, x.verdict_reason])))
    for (const row of before.rows) {
      if (blocked.includes(row.domain)) t.ok(row.anomaly && !row.confirmed, `${row.domain}: an anomaly no fingerprint confirms (${row.verdict_reason})`)
      else t.notOk(row.anomaly, `${row.domain}: healthy (${row.verdict_reason})`)
    }

    const admin = { authorization: 'Bearer admin-secret' }
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/admin/blockpage-candidates/discover', headers: admin })).statusCode, 200)
    const results = (await app.inject({ method: 'GET', url: '/api/v1/admin/blockpage-candidates', headers: admin })).json().results as Array<Record<string, any>>
    t.equal(results.length, 1, 'one candidate')
    const c = results[0]
    t.same(c.domains, blocked, 'served for the six blocked targets, and no healthy one')
    t.equal(c.measurements, 6)
    t.same(
      c.networks.map((n: Record<string, unknown>) => [n.probe_cc, n.probe_asn, n.measurements]),
      [['IR', 'AS64512', 6]]
    )
    t.equal(c.pattern, 'This page is not available.')
    t.equal(c.status_code, 200)
    t.equal(c.sample_uids.length, 6)
    t.ok(typeof c.first_seen === 'string' && typeof c.last_seen === 'string', `seen ${String(c.first_seen)} … ${String(c.last_seen)}`)

    const p = await app.inject({ method: 'POST', url: `/api/v1/admin/blockpage-candidates/${String(c.id)}/promote`, headers: admin, payload: { scope: 'isp' } })
    t.equal(p.statusCode, 200, p.body)
    t.comment(JSON.stringify(p.json()))
    const after = await tdb.db.query<{ domain: string; anomaly: boolean; confirmed: boolean; verdict_reason: string; fingerprints: string[] | null }>(
      'SELECT domain, anomaly, confirmed, verdict_reason, fingerprints FROM measurements ORDER BY domain'
    )
    for (const row of after.rows) {
      if (blocked.includes(row.domain)) {
        t.ok(row.confirmed, `${row.domain}: confirmed (${row.verdict_reason})`)
        t.same(row.fingerprints, [p.json().fingerprint.name], `${row.domain}: by the new fingerprint`)
      } else t.ok(!row.anomaly && !row.confirmed, `${row.domain}: still healthy`)
    }
    const confirmed = await app.inject({ method: 'GET', url: '/api/v1/measurements?confirmed=true&limit=100' })
    t.equal(confirmed.json().results.length, 6, 'the API lists them as confirmed')
  })
}
