/**
 * Block reports for monitors: a country's summary, the targets found
 * blocked (with their charts) and the events, over a window. Read from the
 * store through the timeline and event presenters.
 */
import type { Queryable } from '../store/db.ts'
import { queryEvents, queryTimeline } from '../store/timeline.ts'
import { renderTimelineSvg, type ChartCell } from '../timeline/chart.ts'
import { CAVEATS, METHODOLOGY_TEXT, summaryText, type Report, type ReportTarget } from '../timeline/report.ts'
import { countryLabel, countryName, networkLabel, networkNames } from '../names.ts'
import { toSeries } from './series.ts'
import { eventJson } from './events.ts'

const DAY = 86400_000

/** A report's period and the grain of its charts. */
export interface ReportWindow {
  since: Date
  until: Date
  grain: 'hour' | 'day'
  grainMs: number
}

/** The window a report covers: up to 14 days by the hour, longer by the day. */
export function reportWindow(since: Date, until: Date): ReportWindow {
  const grain = until.getTime() - since.getTime() <= 14 * DAY ? 'hour' : 'day'
  return { since, until, grain, grainMs: grain === 'hour' ? 3600_000 : DAY }
}

/** The chart of one series: a row for the country, then one per network. */
export async function chartSvg(db: Queryable, cc: string, domain: string, testName: string, w: ReportWindow): Promise<string> {
  const base = { probe_cc: cc, domain, test_name: testName, since: w.since, until: w.until, time_grain: w.grain }
  const cells: ChartCell[] = []
  for (const s of toSeries(cc, await queryTimeline(db, { ...base, by: 'cc' }))) {
    for (const b of s.buckets) cells.push({ row: `${countryLabel(cc)}, all networks`, time: b.time, state: b.state, measurements: b.measurement_count })
  }
  for (const s of toSeries(cc, await queryTimeline(db, { ...base, by: 'asn' }))) {
    for (const b of s.buckets) cells.push({ row: s.probe_asn === null ? '?' : networkLabel(s.probe_asn), time: b.time, state: b.state, measurements: b.measurement_count })
  }
  return await renderTimelineSvg(cells, { title: `${domain} in ${countryLabel(cc)} (${testName})`, since: w.since, until: w.until, grainMs: w.grainMs })
}

function chartUrl(publicUrl: string, cc: string, domain: string, testName: string, w: ReportWindow): string {
  const u = new URL(`${publicUrl}/api/v1/reports/${cc}/chart.svg`)
  u.searchParams.set('domain', domain)
  u.searchParams.set('test_name', testName)
  u.searchParams.set('since', w.since.toISOString())
  u.searchParams.set('until', w.until.toISOString())
  return u.toString()
}

/** Builds a country's report over a window. */
export async function buildReport(db: Queryable, publicUrl: string, cc: string, w: ReportWindow, inlineCharts: boolean, nowMs: number): Promise<Report> {
  const events = await queryEvents(db, { probe_cc: cc, since: w.since, until: w.until, limit: 1000 })
  const series = toSeries(cc, await queryTimeline(db, { probe_cc: cc, since: w.since, until: w.until, time_grain: w.grain, by: 'cc' }))
  // Networks whose own buckets say blocked or likely_blocked, even where the
  // country's do not (a block confined to one network, a lone probe).
  const flagged = new Map<string, Set<string>>()
  for (const s of toSeries(cc, await queryTimeline(db, { probe_cc: cc, since: w.since, until: w.until, time_grain: w.grain, by: 'asn' }))) {
    if (!s.buckets.some(b => b.state === 'blocked' || b.state === 'likely_blocked')) continue
    const key = `${s.domain ?? ''}\0${s.test_name}`
    if (!flagged.has(key)) flagged.set(key, new Set())
    flagged.get(key)!.add(s.probe_asn ?? '?')
  }
  let measurements = 0
  const targets: ReportTarget[] = []
  for (const s of series) {
    const counts: Record<string, number> = {}
    for (const b of s.buckets) {
      counts[b.state] = (counts[b.state] ?? 0) + 1
      measurements += b.measurement_count
    }
    const evs = events.filter(e => e.kind === 'blocking' && e.domain === s.domain && e.test_name === s.test_name)
    const networks = [...(flagged.get(`${s.domain ?? ''}\0${s.test_name}`) ?? [])].sort()
    if (evs.length === 0 && (counts.blocked ?? 0) + (counts.likely_blocked ?? 0) === 0 && networks.length === 0) continue
    const domain = s.domain ?? ''
    const t: ReportTarget = {
      domain: s.domain,
      test_name: s.test_name,
      state_counts: counts,
      flagged_networks: networks,
      flagged_network_names: networkNames(networks),
      event_ids: evs.map(e => e.event_id),
      chart_url: chartUrl(publicUrl, cc, domain, s.test_name, w)
    }
    if (inlineCharts) t.chart_svg = await chartSvg(db, cc, domain, s.test_name, w)
    targets.push(t)
  }
  const u = new URL(`${publicUrl}/api/v1/reports/${cc}`)
  u.searchParams.set('since', w.since.toISOString())
  u.searchParams.set('until', w.until.toISOString())
  return {
    probe_cc: cc,
    probe_cc_name: countryName(cc),
    since: w.since.toISOString(),
    until: w.until.toISOString(),
    time_grain: w.grain,
    generated_at: new Date(nowMs).toISOString(),
    url: u.toString(),
    summary: {
      text: summaryText(cc, w.since.toISOString(), w.until.toISOString(), targets, events, measurements),
      measurement_count: measurements,
      blocked_target_count: targets.length,
      event_count: events.length,
      ongoing_event_count: events.filter(e => e.end_time === null).length,
      outage_count: events.filter(e => e.kind === 'outage').length
    },
    targets,
    events: events.map(e => eventJson(e, publicUrl)),
    methodology: { url: `${publicUrl}/api/v1/reports/methodology.md`, text: METHODOLOGY_TEXT, caveats: [...CAVEATS] }
  }
}
