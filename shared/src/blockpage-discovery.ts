/**
 * Blockpage discovery (issue 15, Deliver 2; docs/methodology.md, "Blockpage
 * discovery"): from the pages of anomalous web_connectivity measurements,
 * the pages that one network serves for many unrelated domains and that the
 * control never sees there. Such a page is a *candidate* blockpage: nothing
 * here changes a verdict. An admin reads the evidence and may promote the
 * candidate to a fingerprint, after which rescoring confirms its history.
 *
 * Pages are compared with the body sketch the verdict code already uses
 * (verdict/similarity.ts); a page too short for a sketch is compared by its
 * words. Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto'
import { arr, isObj, maybeBinary, num, obj, str, titleOf } from './verdict/read.ts'
import { BODY_SIMILARITY_THRESHOLD } from './verdict/http-compare.ts'
import { bodySketch, sketchSimilarity, SKETCH_CHARS, wordsOf } from './verdict/similarity.ts'

/** The rule's numbers. */
export const DISCOVERY_RULE = Object.freeze({
  /** Measurements of the last this many days are read. */
  days: 30,
  /** A candidate is served for at least this many unrelated domains in one network. */
  minDomains: 3,
  /** Two pages are one page when their sketches' estimated similarity reaches this. */
  clusterSimilarity: 0.5,
  /** Pattern candidates: text between tags of at least this many characters… */
  minPatternChars: 8,
  /** …and at most this many. */
  maxPatternChars: 200
})

/** The verdict reasons of a measurement that got a page unlike the control's (verdict/web-connectivity.ts). */
export const PAGE_REASONS: readonly string[] = Object.freeze(['http_diff', 'dns_different_addresses'])

/** What the control saw for one measurement: its page's sketch and title. */
export interface ControlView {
  sketch: string | null
  title: string
}

/** The page of one anomalous measurement, as discovery needs it. */
export interface AnomalousPage {
  measurement_uid: string
  time_ms: number
  probe_cc: string
  probe_asn: string
  domain: string
  status_code: number | null
  title: string
  /** The body, cut at SKETCH_CHARS. */
  body: string
  /** The body's sketch; null for a page of fewer words than a sketch needs. */
  sketch: string | null
  /** The body's words, joined: how a page without a sketch is compared. */
  words: string
  control: ControlView
}

/** Where a measurement was made and when: the stored columns beside its document. */
export interface PageContext {
  measurement_uid: string
  time_ms: number
  probe_cc: string
  probe_asn: string
  domain: string
}

/**
 * The page the probe got, for a web_connectivity document: the final
 * response of its redirect chain (OONI lists the last response first), with
 * the control's view of the same target. Null when the document has no page
 * with a body.
 */
export function anomalousPage(doc: unknown, ctx: PageContext): AnomalousPage | null {
  const d = obj(doc)
  if (d.test_name !== 'web_connectivity' || !isObj(d.test_keys)) return null
  const final = finalResponse(d.test_keys)
  const body = pageBodyOf(doc)
  if (final === undefined || body === null) return null
  const sketch = bodySketch(body)
  return {
    ...ctx,
    status_code: num(final.code),
    title: titleOf(body),
    body,
    sketch,
    words: sketch === null ? wordsOf(body).join(' ') : '',
    control: controlViewOf(doc)
  }
}

/** The final response of a web_connectivity document's redirect chain (OONI lists the last response first). */
function finalResponse(tk: unknown): Record<string, unknown> | undefined {
  return arr(obj(tk).requests)
    .map(r => obj(obj(r).response))
    .find(r => (num(r.code) ?? 0) > 0)
}

/** The body of the page a web_connectivity document got, cut at SKETCH_CHARS; null when it got none. */
export function pageBodyOf(doc: unknown): string | null {
  const d = obj(doc)
  if (d.test_name !== 'web_connectivity') return null
  const final = finalResponse(d.test_keys)
  const raw = final === undefined ? null : maybeBinary(final.body)
  return raw === null || raw.trim() === '' ? null : raw.slice(0, SKETCH_CHARS)
}

/** The control's view of a web_connectivity document's target (our control sends a sketch; OONI's only a title). */
export function controlViewOf(doc: unknown): ControlView {
  const http = obj(obj(obj(obj(doc).test_keys).control).http_request)
  return { sketch: str(http.x_body_sketch), title: (str(http.title) ?? '').trim() }
}

/** True when two pages are one page: by sketch when both have one, else by their words. */
export function samePage(a: Pick<AnomalousPage, 'sketch' | 'words'>, b: Pick<AnomalousPage, 'sketch' | 'words'>): boolean {
  if (a.sketch !== null && b.sketch !== null) return (sketchSimilarity(a.sketch, b.sketch) ?? 0) >= DISCOVERY_RULE.clusterSimilarity
  return a.sketch === null && b.sketch === null && a.words !== '' && a.words === b.words
}

/**
 * True when the control saw this page: its sketch is as similar as the
 * verdict's "same page" threshold (lower than clustering's, so that doubt
 * rejects), or its title is the page's.
 */
export function controlSaw(page: Pick<AnomalousPage, 'sketch' | 'title'>, view: ControlView): boolean {
  if (page.title !== '' && view.title !== '' && page.title.toLowerCase() === view.title.toLowerCase()) return true
  if (page.sketch === null || view.sketch === null) return false
  return (sketchSimilarity(page.sketch, view.sketch) ?? 0) >= BODY_SIMILARITY_THRESHOLD
}

/** A domain with its `www.` cut: a site's two names count as one domain. */
export const unrelatedKey = (domain: string): string => domain.toLowerCase().replace(/^www\./, '')

/** The probe_asn of a measurement whose network is unknown. */
export const UNKNOWN_ASN = 'AS0'

/** One page served in one network: its first page (the leader) and every page like it. */
export interface NetworkCluster {
  probe_cc: string
  probe_asn: string
  leader: AnomalousPage
  members: AnomalousPage[]
  domains: string[]
}

/**
 * Groups one window's anomalous pages by network, then by page (each page
 * joins the first earlier page it is like, so that clusters never chain),
 * and keeps the clusters served for at least `minDomains` unrelated domains
 * whose members' own controls never saw the page. Pages from an unknown
 * network (AS0) are left out: they may come from any number of networks.
 */
export function clusterPages(pages: AnomalousPage[], minDomains = DISCOVERY_RULE.minDomains): NetworkCluster[] {
  const byNetwork = new Map<string, AnomalousPage[]>()
  for (const p of [...pages].sort((a, b) => a.time_ms - b.time_ms || a.measurement_uid.localeCompare(b.measurement_uid))) {
    // AS0 is no network but every unknown one: its pages are never grouped.
    if (p.probe_asn === UNKNOWN_ASN) continue
    const k = `${p.probe_cc}\u0000${p.probe_asn}`
    const list = byNetwork.get(k) ?? []
    list.push(p)
    byNetwork.set(k, list)
  }
  const out: NetworkCluster[] = []
  for (const list of byNetwork.values()) {
    const clusters: NetworkCluster[] = []
    for (const p of list) {
      const c = clusters.find(x => samePage(x.leader, p))
      if (c === undefined) clusters.push({ probe_cc: p.probe_cc, probe_asn: p.probe_asn, leader: p, members: [p], domains: [] })
      else c.members.push(p)
    }
    for (const c of clusters) {
      c.domains = [...new Set(c.members.map(m => unrelatedKey(m.domain)))].sort()
      if (c.domains.length < minDomains) continue
      if (c.members.some(m => controlSaw(c.leader, m.control))) continue
      out.push(c)
    }
  }
  return out
}

/** A candidate blockpage: one page, in one or more networks. */
export interface Candidate {
  id: string
  title: string
  excerpt: string
  status_code: number | null
  pattern: string | null
  countries: string[]
  networks: Array<{ probe_cc: string; probe_asn: string; measurements: number; domains: string[] }>
  domains: string[]
  measurements: number
  first_seen_ms: number
  last_seen_ms: number
  sample_uids: string[]
  member_uids: string[]
}

/** Members kept for checking a pattern at promotion. */
export const MAX_MEMBER_UIDS = 500
/** Sample measurements shown with a candidate. */
export const SAMPLES = 10

/**
 * The candidates of a window's clusters: one per page, whatever the
 * networks, each with its pattern. `referenceBodies` are pages known to be
 * the sites' own (the probes' pages of measurements judged ok): a pattern is
 * never found in one of them.
 */
export function candidatesOf(clusters: NetworkCluster[], referenceBodies: string[]): Candidate[] {
  return mergeClusters(clusters).map(g => candidateOf(g, referenceBodies))
}

/** Groups the network clusters of one page (a national blockpage is served in many networks). */
export function mergeClusters(clusters: NetworkCluster[]): NetworkCluster[][] {
  const groups: NetworkCluster[][] = []
  for (const c of clusters) {
    const g = groups.find(x => samePage(x[0].leader, c.leader))
    if (g === undefined) groups.push([c])
    else g.push(c)
  }
  return groups
}

/** The candidate of one page's network clusters, its pattern chosen against `referenceBodies`. */
export function candidateOf(g: NetworkCluster[], referenceBodies: string[]): Candidate {
  const members = g.flatMap(c => c.members).sort((a, b) => a.time_ms - b.time_ms)
  const leader = members[0]
  const pattern = choosePattern(
    leader.body,
    members.map(m => m.body),
    referenceBodies
  )
  const bySample = new Map<string, AnomalousPage>()
  for (const m of [...members].reverse()) if (!bySample.has(unrelatedKey(m.domain))) bySample.set(unrelatedKey(m.domain), m)
  return {
    id:
      'bp-' +
      createHash('sha256')
        .update(pattern ?? leader.words + (leader.sketch ?? ''))
        .digest('hex')
        .slice(0, 12),
    title: leader.title,
    excerpt: leader.body.slice(0, 400),
    status_code: leader.status_code,
    pattern,
    countries: [...new Set(g.map(c => c.probe_cc))].sort(),
    networks: g.map(c => ({ probe_cc: c.probe_cc, probe_asn: c.probe_asn, measurements: c.members.length, domains: c.domains })),
    domains: [...new Set(members.map(m => unrelatedKey(m.domain)))].sort(),
    measurements: members.length,
    first_seen_ms: leader.time_ms,
    last_seen_ms: members[members.length - 1].time_ms,
    sample_uids: [...bySample.values()].slice(0, SAMPLES).map(m => m.measurement_uid),
    member_uids: members.slice(-MAX_MEMBER_UIDS).map(m => m.measurement_uid)
  }
}

/**
 * The pattern a fingerprint of this page would use (location `body`, type
 * `contains`): the longest text between two tags of the first page that is
 * in every member page, in no reference page and holds no IP address; else
 * the page's raw `<title>` element under the same conditions; else null.
 */
export function choosePattern(leaderBody: string, memberBodies: string[], referenceBodies: string[]): string | null {
  const texts = [
    ...new Set(
      leaderBody
        .split(/<[^>]*>/)
        .map(s => s.trim())
        .filter(s => s.length >= DISCOVERY_RULE.minPatternChars && s.length <= DISCOVERY_RULE.maxPatternChars && !/[\r\n]/.test(s))
    )
  ].sort((a, b) => b.length - a.length)
  const title = /<title[^>]*>[^<\r\n]{1,200}<\/title>/i.exec(leaderBody)
  if (title !== null) texts.push(title[0])
  return texts.find(s => patternHolds(s, memberBodies, referenceBodies)) ?? null
}

/**
 * True when a text holds what looks like an IP address (IPv4, or hex groups
 * with colons, times included: doubt rejects). A blockpage that echoes the
 * visitor's address would otherwise put a probe's address in a pattern,
 * and so in the fingerprint list every probe gets (docs/privacy.md).
 */
export function holdsAddress(text: string): boolean {
  return /\d{1,3}(?:\.\d{1,3}){3}/.test(text) || /[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}/i.test(text)
}

/** True when `pattern` is in every member page and in no reference page, and holds no address. */
export function patternHolds(pattern: string, memberBodies: string[], referenceBodies: string[]): boolean {
  return pattern !== '' && !holdsAddress(pattern) && memberBodies.length > 0 && memberBodies.every(b => b.includes(pattern)) && !referenceBodies.some(b => b.includes(pattern))
}
