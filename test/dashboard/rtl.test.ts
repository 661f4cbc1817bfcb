/**
 * A right-to-left page in Chromium (issue 17, item 4): the Persian country
 * page lays out from the right (the document's direction, the logical
 * properties of dashboard.css), its charts draw, nothing overflows, and a
 * screenshot is written to docs/img/dashboard-fa.png (shown in
 * docs/dashboard.md).
 */
import t from 'tap'
import { join } from 'node:path'
import { existsSync, mkdirSync } from 'node:fs'
import { loopbackPage, noChromium } from '../helpers/browser.ts'
import { testApp } from '../helpers/aggregator-app.ts'
import { insertRows, type Row } from '../timeline/rows.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

const IMG = join(REPO_ROOT, 'docs/img/dashboard-fa.png')
const H = 3600_000

/** Two days of three targets in three networks: one blocked since yesterday, one blocked for a while, one fine. */
function rows(now: number): Row[] {
  const out: Row[] = []
  for (let h = -47; h <= 0; h++) {
    for (const [asn, probe, region] of [
      ['AS197207', 'a', 'IR-23'],
      ['AS44244', 'b', 'IR-07'],
      ['AS58224', 'c', 'IR-23']
    ] as const) {
      const at = now + h * H + 7 * 60_000
      const news = h >= -30
      const video = h >= -40 && h <= -30
      out.push({ t: new Date(at), asn, probe, region, domain: 'news.example.org', anomaly: news, confirmed: news && asn === 'AS197207', blocking_type: news ? 'dns' : null })
      out.push({ t: new Date(at + 1000), asn, probe, region, domain: 'video.example.net', anomaly: video, blocking_type: video ? 'tcp_ip' : null })
      out.push({ t: new Date(at + 2000), asn, probe, region, domain: 'ok.example.com' })
    }
  }
  return out
}

t.test('the Persian country page in Chromium, right to left', { skip: noChromium }, async t => {
  const { app, tdb, close } = await testApp()
  t.teardown(close)
  const now = Math.floor(Date.now() / H) * H
  await insertRows(tdb.db, rows(now))
  await drainDirty(tdb.db)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`

  const { page, offsite } = await loopbackPage(t, base)
  const errors: string[] = []
  page.on('pageerror', e => {
    errors.push(e.message)
  })

  await page.goto(base + '/country/IR?lang=fa')
  await page.waitForSelector('body[data-charts-ready]')
  const layout = await page.evaluate(() => {
    const d = globalThis as unknown as { document: any; getComputedStyle: (e: unknown) => Record<string, string>; innerWidth: number }
    const doc = d.document
    const main = doc.querySelector('main')
    const brand = doc.querySelector('header.top .brand').getBoundingClientRect()
    // The heading's text, not its box (a block as wide as the page).
    const range = doc.createRange()
    range.selectNodeContents(doc.querySelector('main h1'))
    const h1 = range.getBoundingClientRect()
    const th = doc.querySelector('table.list th')
    return {
      lang: doc.documentElement.lang,
      dir: doc.documentElement.dir,
      direction: d.getComputedStyle(main).direction,
      // In right to left, the brand sits at the right and headings start from the right.
      brandRight: d.innerWidth - brand.right,
      brandLeft: brand.left,
      h1Right: d.innerWidth - h1.right,
      h1Left: h1.left,
      thAlign: th === null ? null : d.getComputedStyle(th).textAlign,
      overflow: doc.documentElement.scrollWidth - doc.documentElement.clientWidth,
      charts: doc.querySelectorAll('figure.timeline canvas').length
    }
  })
  t.equal(layout.lang, 'fa')
  t.equal(layout.dir, 'rtl')
  t.equal(layout.direction, 'rtl', 'the page is laid out right to left')
  t.ok(layout.brandRight < layout.brandLeft, `the brand sits on the right (${Math.round(layout.brandRight)} px from it)`)
  t.ok(layout.h1Right < layout.h1Left, 'the heading starts from the right')
  t.equal(layout.thAlign, 'start', 'table headings align to the start, which is the right here')
  t.ok(layout.overflow <= 0, 'nothing runs off the page sideways')
  t.ok(layout.charts >= 3, `the charts draw (${layout.charts})`)
  t.match(await page.locator('main h2').first().textContent(), 'رویدادهای جاری', 'headings in Persian')
  mkdirSync(join(REPO_ROOT, 'docs/img/'), { recursive: true })
  await page.screenshot({ path: IMG, fullPage: true })
  t.ok(existsSync(IMG), 'docs/img/dashboard-fa.png written')
  t.same(errors, [], 'no script error')
  t.same(offsite, [], 'nothing fetched from outside the aggregator')
})
