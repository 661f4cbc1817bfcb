/**
 * Block reports for monitors: a country's events and timelines over a
 * window, as JSON, Markdown or HTML that can be published as they stand.
 * This file shapes the report from data already loaded (see
 * routes/reports.ts); the charts come from chart.ts.
 */
import type { EventRecord } from '../store/timeline.ts'
import { countryLabel, networkLabel } from '../names.ts'

/** One target in the report: a series with blocking in the window. */
export interface ReportTarget {
  domain: string | null
  test_name: string
  /** Buckets per state over the window, country level. */
  state_counts: Record<string, number>
  /** Networks with blocked or likely_blocked buckets of their own. */
  flagged_networks: string[]
  /** Their names by ASN (null when the ASN database does not know one). */
  flagged_network_names: Record<string, string | null>
  event_ids: string[]
  chart_url: string
  /** The chart, inline (JSON and HTML only). */
  chart_svg?: string
}

/** A report, as format=json returns it. */
export interface Report {
  probe_cc: string
  /** The country's name, null for ZZ and unassigned codes. */
  probe_cc_name: string | null
  since: string
  until: string
  time_grain: 'hour' | 'day'
  generated_at: string
  url: string
  summary: {
    text: string
    measurement_count: number
    blocked_target_count: number
    event_count: number
    ongoing_event_count: number
    outage_count: number
  }
  targets: ReportTarget[]
  events: Array<EventRecord & { probe_cc_name: string | null; probe_network_names: Record<string, string | null>; url: string; page_url: string; sample_measurement_urls: string[] }>
  methodology: { url: string; text: string; caveats: string[] }
}

/** The methodology paragraph every report carries. */
export const METHODOLOGY_TEXT =
  'Volunteer probes test targets from their own networks and upload OONI-format measurements. ' +
  'Each measurement is scored (anomaly, confirmed by a blockpage fingerprint, failure). Measurements are rolled up per hour ' +
  'and network; a bucket is blocked when most usable measurements are anomalous and at least two probes agree (or a ' +
  'blockpage confirms it), likely_blocked when only one probe saw it, impaired when a substantial minority is anomalous, ' +
  'down when the target failed for the control too, and insufficient when there is too little usable evidence. An event ' +
  'needs anomalies from at least two probes in two networks, two long-standing probes, or one confirmed blockpage; its start ' +
  'and end are the first and last anomalous measurements.'

/** The caveats every report carries. */
export const CAVEATS: readonly string[] = [
  'Coverage depends on volunteers: networks and hours without measurements are unknown, not unblocked.',
  'Start and end times are those of the first and last anomalous measurements; the change itself happened between measurements.',
  'Unconfirmed anomalies can be false positives (a flaky network, a site that misbehaves); only fingerprint-confirmed blockpages are certain.',
  'Outages are inferred from measurements that reached neither the target nor the control; they are often uploaded late, so recent outages can appear after the fact.',
  'Probes declare their own subdivision; networks and countries come from the measurement envelope.',
  'Events flagged as outliers rest on probes that disagree with long-standing probes of the same networks, a sign of possible poisoning; treat them with care.',
  'All times are UTC.'
]

function fmtTime(iso: string | null): string {
  return iso === null ? 'ongoing' : iso.slice(0, 16).replace('T', ' ') + ' UTC'
}

function eventLabel(e: EventRecord): string {
  return e.kind === 'outage' ? 'network outage' : `${e.domain ?? '?'} (${e.test_name ?? '?'})`
}

/**
 * Networks named, "AS197207 Mobile Communication Company of Iran PLC; AS44244 …":
 * semicolons, because network names carry commas ("CU*Answers, Inc.").
 */
export function networksText(asns: readonly string[]): string {
  return asns.map(networkLabel).join('; ')
}

/** The summary sentence. */
export function summaryText(cc: string, since: string, until: string, targets: ReportTarget[], events: EventRecord[], measurements: number): string {
  const blocking = events.filter(e => e.kind === 'blocking')
  const outages = events.filter(e => e.kind === 'outage')
  const ongoing = events.filter(e => e.end_time === null)
  const where = countryLabel(cc)
  if (measurements === 0) return `No measurements from ${where} between ${fmtTime(since)} and ${fmtTime(until)}: nothing can be said about this period.`
  const parts = [`Between ${fmtTime(since)} and ${fmtTime(until)}, blockwatch received ${measurements} measurements from ${where}.`]
  const evDomains = [...new Set(blocking.map(e => e.domain ?? '?'))]
  if (blocking.length === 0) parts.push('No blocking event was detected.')
  else parts.push(`${blocking.length} blocking event${blocking.length === 1 ? '' : 's'} affected ${evDomains.length} target${evDomains.length === 1 ? '' : 's'}: ${evDomains.join(', ')}.`)
  const thin = targets.filter(t => t.event_ids.length === 0)
  if (thin.length > 0) {
    parts.push(
      `Measurements also suggest blocking, without enough evidence for an event, of ${thin.map(t => `${t.domain ?? '?'} (${networksText(t.flagged_networks) || 'country level'})`).join(', ')}.`
    )
  }
  if (outages.length > 0) parts.push(`${outages.length} network outage${outages.length === 1 ? '' : 's'} ${outages.length === 1 ? 'was' : 'were'} detected.`)
  if (ongoing.length > 0) parts.push(`${ongoing.length} event${ongoing.length === 1 ? ' is' : 's are'} still ongoing.`)
  return parts.join(' ')
}

/**
 * Text for Markdown, for strings that probes and target lists control
 * (domains, test names, networks, fingerprint names, the summary that
 * names them): every character that Markdown, or the HTML a renderer may let
 * through, would act on is backslash-escaped (CommonMark escapes any ASCII
 * punctuation), and line breaks become spaces, so that `<svg onload=…>`
 * stays text and a name cannot start a link, an image, a table cell or a
 * line of its own.
 */
export function mdText(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>&|~!#]/g, c => '\\' + c)
}

/** A link destination for Markdown: characters that would end it or start HTML are percent-encoded. */
function mdUrl(u: string): string {
  return u.replace(/[\s()<>\\`]/g, c => [...Buffer.from(c, 'utf8')].map(b => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''))
}

/** The report as Markdown; charts are images linked on PUBLIC_URL. */
export function reportMarkdown(r: Report): string {
  const out: string[] = [
    `# Blocking report: ${mdText(countryLabel(r.probe_cc))}, ${fmtTime(r.since)} – ${fmtTime(r.until)}`,
    '',
    `_Generated ${fmtTime(r.generated_at)} by blockwatch. Permalink: <${mdUrl(r.url)}>_`,
    '',
    '## Summary',
    '',
    mdText(r.summary.text),
    ''
  ]
  for (const t of r.targets) {
    out.push(`## ${mdText(t.domain ?? '(no domain)')} — ${mdText(t.test_name)}`, '', `![Timeline of ${mdText(t.domain ?? '')} in ${mdText(countryLabel(r.probe_cc))}](${mdUrl(t.chart_url)})`, '')
    const evs = r.events.filter(e => t.event_ids.includes(e.event_id))
    if (evs.length > 0) out.push(...eventTable(evs), '')
    else out.push(`No event: the evidence (${mdText(networksText(t.flagged_networks)) || 'country level'}) does not meet the event rules; see the methodology.`, '')
  }
  const outages = r.events.filter(e => e.kind === 'outage')
  if (outages.length > 0) out.push('## Network outages', '', ...eventTable(outages), '')
  out.push('## Methodology', '', r.methodology.text, '', `Full methodology: <${mdUrl(r.methodology.url)}>`, '', '### Caveats', '', ...r.methodology.caveats.map(c => `- ${c}`), '')
  return out.join('\n')
}

function eventTable(evs: Report['events']): string[] {
  const rows = ['| Event | Start | End | Technique | Networks | Evidence | Confidence | Samples |', '|---|---|---|---|---|---|---|---|']
  for (const e of evs) {
    const ev = e.evidence
    const evidence =
      `${ev.anomaly_count + ev.confirmed_count} ${e.kind === 'outage' ? 'unreachable' : 'anomalous'} of ${ev.measurement_count} measurements, ${ev.probe_count} probes (${ev.source_count} independent)` +
      (ev.confirmed_count > 0 ? `, ${ev.confirmed_count} confirmed${ev.fingerprints.length > 0 ? ` (${ev.fingerprints.join(', ')})` : ''}` : '')
    const networks = networksText(e.probe_asns) + (e.probe_regions.length > 0 ? ` (${e.probe_regions.join(', ')})` : '')
    const samples = e.sample_measurement_urls
      .slice(0, 3)
      .map((u, i) => `[${i + 1}](${mdUrl(u)})`)
      .join(' ')
    rows.push(
      `| [${mdText(eventLabel(e))}](${mdUrl(e.page_url)}) | ${fmtTime(e.start_time)} | ${fmtTime(e.end_time)} | ${mdText(e.blocking_type ?? '—')} | ${mdText(networks)} | ${mdText(evidence)} | ${e.confidence}${e.outlier ? ' (outlier)' : ''} | ${samples} |`
    )
  }
  return rows
}

/**
 * The HTML report's stylesheet, inline so that the page stands alone; its
 * Content-Security-Policy allows exactly this block by hash (routes/reports.ts).
 */
export const REPORT_CSS =
  'body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}figure{margin:1em 0;overflow-x:auto}svg{max-width:100%;height:auto}'

function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** The report as a standalone HTML page, charts inline. */
export function reportHtml(r: Report): string {
  const table = (evs: Report['events']): string => {
    if (evs.length === 0) return ''
    const rows = evs.map(e => {
      const ev = e.evidence
      const samples = e.sample_measurement_urls
        .slice(0, 3)
        .map((u, i) => `<a href="${h(u)}">${i + 1}</a>`)
        .join(' ')
      return (
        `<tr><td><a href="${h(e.page_url)}">${h(eventLabel(e))}</a></td><td>${h(fmtTime(e.start_time))}</td><td>${h(fmtTime(e.end_time))}</td>` +
        `<td>${h(e.blocking_type ?? '—')}</td><td>${h(networksText(e.probe_asns))}${e.probe_regions.length > 0 ? ` (${h(e.probe_regions.join(', '))})` : ''}</td>` +
        `<td>${ev.anomaly_count + ev.confirmed_count} ${e.kind === 'outage' ? 'unreachable' : 'anomalous'} of ${ev.measurement_count}; ${ev.probe_count} probes (${ev.source_count} independent)` +
        `${ev.confirmed_count > 0 ? `; ${ev.confirmed_count} confirmed${ev.fingerprints.length > 0 ? ` (${h(ev.fingerprints.join(', '))})` : ''}` : ''}</td>` +
        `<td>${e.confidence}${e.outlier ? ` <abbr title="${h(e.outlier_reason ?? '')}">outlier</abbr>` : ''}</td><td>${samples}</td></tr>`
      )
    })
    return `<table><thead><tr><th>Event</th><th>Start</th><th>End</th><th>Technique</th><th>Networks</th><th>Evidence</th><th>Confidence</th><th>Samples</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  }
  const sections = r.targets.map(
    t =>
      `<section><h2>${h(t.domain ?? '(no domain)')} — ${h(t.test_name)}</h2>` +
      `<figure>${t.chart_svg ?? `<img src="${h(t.chart_url)}" alt="timeline">`}</figure>` +
      (t.event_ids.length > 0
        ? table(r.events.filter(e => t.event_ids.includes(e.event_id)))
        : `<p>No event: the evidence (${h(networksText(t.flagged_networks) || 'country level')}) does not meet the event rules; see the methodology.</p>`) +
      '</section>'
  )
  const outages = r.events.filter(e => e.kind === 'outage')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Blocking report: ${h(countryLabel(r.probe_cc))}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${REPORT_CSS}</style>
</head><body>
<h1>Blocking report: ${h(countryLabel(r.probe_cc))}, ${h(fmtTime(r.since))} – ${h(fmtTime(r.until))}</h1>
<p><em>Generated ${h(fmtTime(r.generated_at))} by blockwatch. <a href="${h(r.url)}">Permalink</a></em></p>
<h2>Summary</h2><p>${h(r.summary.text)}</p>
${sections.join('\n')}
${outages.length > 0 ? `<section><h2>Network outages</h2>${table(outages)}</section>` : ''}
<h2>Methodology</h2><p>${h(r.methodology.text)}</p><p><a href="${h(r.methodology.url)}">Full methodology</a></p>
<h3>Caveats</h3><ul>${r.methodology.caveats.map(c => `<li>${h(c)}</li>`).join('')}</ul>
</body></html>
`
}
