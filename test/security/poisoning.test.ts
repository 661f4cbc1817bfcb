/**
 * Abuse (issue 9): data poisoning. One probe flooding fake "blocked" results
 * for a target, or a group of probes registered together by one actor (each
 * claiming a different network), cannot create an event; the same volume
 * from independent probes in two networks does (so the test is not vacuous).
 * Events come from the timeline job (aggregator/src/timeline/job.ts).
 */
import t from 'tap'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { registerProbe, sampleMeasurement, testApp, webKeys } from '../helpers/aggregator-app.ts'

const MANY = { max: 100_000, timeWindow: '1 minute' }
const HOUR = 3600_000

/** `n` fake "blocked" web_connectivity results for `domain` from a probe, spread over the last 12 hours. */
function flood(probeId: string, domain: string, asn: string, n: number): Array<Record<string, unknown>> {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) =>
    sampleMeasurement(probeId, {
      input: `https://${domain}/`,
      probe_asn: asn,
      measurement_start_time: formatOoniTime(now - 12 * HOUR + Math.floor((i * 12 * HOUR) / n)),
      test_keys: webKeys(`https://${domain}/`, 'dns')
    })
  )
}

async function eventsFor(app: Awaited<ReturnType<typeof testApp>>['app'], domain: string): Promise<unknown[]> {
  const r = await app.inject({ url: `/api/v1/events?probe_cc=IR&domain=${domain}` })
  t.equal(r.statusCode, 200)
  const body = r.json() as { results?: unknown[]; events?: unknown[] }
  return body.results ?? body.events ?? []
}

t.test('one probe, or one actor\'s group, flooding "blocked" makes no event', async t => {
  // The offline database knows nothing of test addresses: say that the
  // actor's address (198.51.100.7) is in AS64999.
  const { app, tdb, close } = await testApp({
    rateLimits: { ingest: MANY, probes: MANY, researcher: MANY },
    geoLookup: address => (address === '198.51.100.7' ? { probe_cc: 'IR', probe_asn: 'AS64999', network_name: 'actor' } : { probe_cc: null, probe_asn: null, network_name: null })
  })
  t.teardown(close)
  const upload = async (token: string, docs: Array<Record<string, unknown>>): Promise<number> => {
    let accepted = 0
    for (let i = 0; i < docs.length; i += 500) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: docs.slice(i, i + 500) })
      accepted += (r.json() as { accepted: number }).accepted
    }
    return accepted
  }

  // 1. One probe, 2,000 fake results.
  const lone = await registerProbe(app)
  const n1 = await upload(lone.token, flood(lone.probe_id, 'lone.example', 'AS197207', 2000))
  // 2. A group registered together by one actor, each claiming another network.
  const registerFromActor = async (): Promise<{ probe_id: string; token: string }> => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/probes/register', remoteAddress: '198.51.100.7', payload: { software_name: 'blockwatch', software_version: '0.1.0' } })
    return r.json()
  }
  // Registered within one minute (a slow machine might straddle a minute: skip to the next).
  if (new Date().getUTCSeconds() > 50) await new Promise(resolve => setTimeout(resolve, (61 - new Date().getUTCSeconds()) * 1000))
  const group = [await registerFromActor(), await registerFromActor(), await registerFromActor()]
  let n2 = 0
  for (const [i, p] of group.entries()) n2 += await upload(p.token, flood(p.probe_id, 'group.example', `AS${64500 + i}`, 500))
  // Two honest probes of the same country see lone.example reachable.
  const honest = [await registerProbe(app), await registerProbe(app)]
  for (const h of honest) {
    await upload(
      h.token,
      flood(h.probe_id, 'lone.example', 'AS197207', 20).map(d => ({ ...d, test_keys: webKeys('https://lone.example/') }))
    )
  }
  await drainDirty(tdb.db)
  t.same(await eventsFor(app, 'lone.example'), [], `a lone probe's ${n1} fake results make no event`)
  t.same(await eventsFor(app, 'group.example'), [], `${group.length} probes registered together, ${n2} fake results in ${group.length} claimed networks, make no event`)

  // The probe operators' page flags the flooder, and only it.
  const page = async (token: string): Promise<string> =>
    (await app.inject({ method: 'POST', url: '/probes', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${encodeURIComponent(token)}` })).body
  const lonePage = await page(lone.token)
  t.match(lonePage, /Flagged as an outlier/, "the flooding probe's page flags it as an outlier")
  t.match(lonePage, /outlier for <strong>lone\.example<\/strong>/, 'for the target it flooded')
  t.notMatch(await page(honest[0].token), /Flagged as an outlier/, 'an honest probe is not flagged')
  const adminPage = await page('admin-secret')
  t.match(adminPage, new RegExp(`<code>${lone.probe_id}</code>: outlier for`), "the admin's list flags it too")

  t.comment(`poisoning: lone probe ${n1} fake "blocked" → 0 events, flagged as an outlier on the operators' page; group of ${group.length} registered together ${n2} → 0 events`)
})
