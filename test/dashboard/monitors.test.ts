/**
 * What monitors publish (issue 17, item 6): reports and feeds link to the
 * event's page; Atom ids do not move when the server's address does; one
 * palette across the dashboard, its charts and the report charts; chart
 * windows that start at the data when it starts later than the window.
 */
import t from 'tap'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { testApp } from '../helpers/aggregator-app.ts'
import { insertRows, type Row } from '../timeline/rows.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { OUTCOME_COLORS, STATE_BACKGROUNDS, STATE_COLORS, chartPalette, paletteCss } from '../../aggregator/src/present/palette.ts'
import { fitStart } from '../../aggregator/src/present/chart-window.ts'
import { timelineSpec } from '../../aggregator/src/timeline/chart.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

const H = 3600_000
const T0 = Date.parse('2009-05-20T00:00:00Z')
const DAY = 24 * H

/** Two days of a blocked target, measured by three probes in three networks. */
function rows(): Row[] {
  const out: Row[] = []
  for (let h = 0; h < 48; h++) {
    for (const [asn, probe] of [
      ['AS197207', 'a'],
      ['AS44244', 'b'],
      ['AS58224', 'c']
    ] as const) {
      const blocked = h >= 10 && h < 30
      out.push({ t: new Date(T0 + h * H + 5 * 60_000), asn, probe, domain: 'www.facebook.com', anomaly: blocked, confirmed: blocked && asn === 'AS197207', blocking_type: blocked ? 'dns' : null })
    }
  }
  return out
}

const entryIds = (atom: string): string[] => [...atom.matchAll(/<entry>\n\s*<id>([^<]+)<\/id>/g)].map(m => m[1])

t.test('feeds and reports link to the event page; Atom ids survive a new PUBLIC_URL', async t => {
  const a = await testApp({ publicUrl: 'https://bw.example.org', now: () => T0 + 60 * H })
  t.teardown(a.close)
  await insertRows(a.tdb.db, rows())
  await drainDirty(a.tdb.db)
  // The same database served from another address (a move, a new domain, a path prefix).
  const b = await testApp({ publicUrl: 'https://mirror.example.net/blockwatch', now: () => T0 + 60 * H }, a.tdb)
  t.teardown(b.close)

  const feedA = (await a.app.inject({ url: '/api/v1/feeds/events.atom?probe_cc=IR' })).body
  const feedB = (await b.app.inject({ url: '/api/v1/feeds/events.atom?probe_cc=IR' })).body
  const ids = entryIds(feedA)
  t.equal(ids.length, 2, 'an entry for the start and one for the end')
  for (const id of ids) t.match(id, /^tag:blockwatch,2026:event:[0-9a-f-]{36}:(start|end)$/, 'a tag: URI of the event alone')
  t.same(entryIds(feedB), ids, 'the same ids from another PUBLIC_URL')
  t.equal(/<feed[^>]*>\n\s*<id>([^<]+)</.exec(feedA)?.[1], 'tag:blockwatch,2026:feed:events?probe_cc=IR', "the feed's own id names its filters, not its address")
  t.equal(/<feed[^>]*>\n\s*<id>([^<]+)</.exec(feedB)?.[1], 'tag:blockwatch,2026:feed:events?probe_cc=IR')
  for (const id of ids) t.notMatch(id, /example\.(org|net)|https?:/, 'no link in an id')
  const eventId = /event:([0-9a-f-]{36}):/.exec(ids[0])![1]
  t.match(feedA, `<link rel="alternate" type="text/html" href="https://bw.example.org/event/${eventId}"/>`)
  t.match(feedA, `<link rel="alternate" type="application/json" href="https://bw.example.org/api/v1/events/${eventId}"/>`, 'the JSON stays as a second alternate')
  t.match(feedB, `<link rel="alternate" type="text/html" href="https://mirror.example.net/blockwatch/event/${eventId}"/>`, 'links follow PUBLIC_URL')

  const window = `since=${new Date(T0).toISOString()}&until=${new Date(T0 + 48 * H).toISOString()}`
  const md = (await a.app.inject({ url: `/api/v1/reports/IR?${window}&format=md` })).body
  t.match(md, `](https://bw.example.org/event/${eventId}) |`, 'the Markdown report links the event to its page')
  t.notMatch(md, '/api/v1/events/', 'and not to the JSON')
  const html = (await a.app.inject({ url: `/api/v1/reports/IR?${window}&format=html` })).body
  t.match(html, `<a href="https://bw.example.org/event/${eventId}">`, 'so does the HTML report')
  t.notMatch(html, '/api/v1/events/')
  const json = (await a.app.inject({ url: `/api/v1/reports/IR?${window}` })).json()
  t.match(json.events[0], { url: `https://bw.example.org/api/v1/events/${eventId}`, page_url: `https://bw.example.org/event/${eventId}` }, 'the JSON has both')
  const page = await a.app.inject({ url: `/event/${eventId}` })
  t.equal(page.statusCode, 200, 'and the page they link to is there')
})

t.test('one palette: dashboard stylesheet, uPlot chart data, report charts', async t => {
  const { app, tdb, close } = await testApp({ now: () => T0 + 60 * H })
  t.teardown(close)
  await insertRows(tdb.db, rows())
  await drainDirty(tdb.db)

  const css = await app.inject({ url: '/dashboard/static/palette.css' })
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /^text\/css/)
  t.equal(css.body, paletteCss())
  for (const [k, v] of Object.entries(OUTCOME_COLORS)) t.match(css.body, `--${k}: ${v};`, `--${k} is the palette's`)
  t.match(css.body, `--state-likely-blocked-bg: ${STATE_BACKGROUNDS.likely_blocked};`)
  const own = readFileSync(join(REPO_ROOT, 'aggregator/src/dashboard/static/dashboard.css'), 'utf8')
  t.notMatch(own, /--(ok|anomaly|confirmed|failure)\s*:/, 'dashboard.css defines no outcome colour of its own')
  t.notMatch(own, /rgba\(/, 'nor state tints')
  const country = await app.inject({ url: '/country/IR?period=7d' })
  t.match(
    country.body,
    /<link rel="stylesheet" href="\/dashboard\/static\/palette\.css">\n<link rel="stylesheet" href="\/dashboard\/static\/dashboard\.css">/,
    'pages load the palette before the stylesheet that uses it'
  )
  const data = JSON.parse(/<script type="application\/json" id="chart-data">([^<]*)<\/script>/.exec(country.body)![1])
  t.same(data.palette, chartPalette(), 'the uPlot charts draw with the palette')
  t.equal(data.palette.outcomes.ok, STATE_COLORS.ok, "ok is one colour: the ok state's")

  const svg = (await app.inject({ url: `/api/v1/reports/IR/chart.svg?domain=www.facebook.com&since=${new Date(T0).toISOString()}&until=${new Date(T0 + 48 * H).toISOString()}` })).body
  t.match(svg, `fill="${STATE_COLORS.ok}"`, "the report chart's ok is the palette's")
  t.match(svg, `fill="${STATE_COLORS.blocked}"`)
  t.equal(OUTCOME_COLORS.ok, STATE_COLORS.ok)
  t.equal(OUTCOME_COLORS.confirmed, STATE_COLORS.blocked)
})

t.test('chart windows start at the first data, with a margin', async t => {
  t.equal(fitStart(T0, T0 + 30 * DAY, T0 + 20 * DAY, H), T0 + 20 * DAY - 12 * H, 'ten days of data in a 30-day window: a margin of a twentieth of what is shown')
  t.equal(fitStart(T0, T0 + 30 * DAY, T0 + 30 * DAY - 3 * H, H), T0 + 30 * DAY - 5 * H, 'at least two buckets')
  t.equal(fitStart(T0, T0 + 30 * DAY, T0 + H, H), T0, 'never before the window')
  t.equal(fitStart(T0, T0 + 30 * DAY, T0 - DAY, H), T0, 'data from before the window: the window')
  t.equal(fitStart(T0, T0 + 30 * DAY, undefined, H), T0, 'no data: the window')
  t.equal(fitStart(T0, T0 + 30 * DAY, T0 + 20 * DAY + 30 * 60_000, DAY) % DAY, T0 % DAY, 'on a bucket bound')

  const spec = timelineSpec([{ row: 'IR', time: new Date(T0 + 20 * DAY).toISOString(), state: 'ok', measurements: 3 }], {
    title: 'x',
    since: new Date(T0),
    until: new Date(T0 + 30 * DAY),
    grainMs: DAY
  }) as { encoding: { x: { scale: { domain: string[] } } } }
  t.same(spec.encoding.x.scale.domain, [new Date(T0 + 18 * DAY).toISOString(), new Date(T0 + 30 * DAY).toISOString()], "the report chart's axis starts two days before its first cell")

  // The dashboard: a 30-day window over two days of data.
  const { app, tdb, close } = await testApp({ now: () => T0 + 60 * H })
  t.teardown(close)
  await insertRows(tdb.db, rows())
  await drainDirty(tdb.db)
  for (const url of ['/country/IR?period=30d', '/country/IR?period=365d']) {
    const body = (await app.inject({ url })).body
    const data = JSON.parse(/<script type="application\/json" id="chart-data">([^<]*)<\/script>/.exec(body)![1])
    t.ok(data.since <= T0 && data.since >= T0 - 5 * DAY, `${url}: the charts start just before the data (${new Date(data.since).toISOString()})`)
    t.ok(data.since > data.until - (url.endsWith('30d') ? 30 : 365) * DAY, `${url}: not at the window's start`)
  }
})
