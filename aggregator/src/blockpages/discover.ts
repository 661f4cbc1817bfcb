/**
 * Blockpage discovery (issue 15, Deliver 2; docs/methodology.md, "Blockpage
 * discovery"): a periodic job that reads the stored documents of recent
 * anomalous measurements (judged once at ingest; nothing is judged again
 * here), clusters their pages with the pure rule of
 * shared/src/blockpage-discovery.ts and rewrites the candidates table; and
 * the promotion of a candidate to a fingerprint, after which history is
 * rescored and its measurements come out confirmed.
 */
import {
  anomalousPage,
  candidateOf,
  clusterPages,
  controlSaw,
  DISCOVERY_RULE,
  holdsAddress,
  mergeClusters,
  PAGE_REASONS,
  pageBodyOf,
  patternHolds,
  type AnomalousPage,
  type Candidate,
  type ControlView,
  type NetworkCluster
} from '../../../shared/src/blockpage-discovery.ts'
import { csvCell } from '../../../shared/src/csv.ts'
import type { Fingerprint, FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { rescoreAll, type RescoreTotals } from '../commands/rescore.ts'
import { AggError, badRequest, notFound } from '../errors.ts'
import { fingerprintsCsv, type FingerprintSource } from '../fingerprint-source.ts'
import type { Job } from '../jobs.ts'
import { deleteCandidate, getCandidate, loadAnomalousDocs, loadControlViews, loadDocsByUid, loadOkDocs, replaceCandidates, storedFingerprintCsv, type CandidateRow } from '../store/candidates.ts'
import type { Database } from '../store/db.ts'

/** How much one run reads. */
export const DISCOVERY_LIMITS = Object.freeze({
  /** Anomalous pages read per run, newest first. */
  pages: 20_000,
  /** Control views read per network with a cluster. */
  controlViews: 5_000,
  /** Pages judged ok read per candidate, to keep its pattern off the sites' own pages. */
  okPages: 500
})

/** The advisory lock of the discovery job ("blk" + "d"). */
export const DISCOVERY_JOB_LOCK = 0x626c6b64

/** Their www. twins too: the domain column holds names as measured. */
const withWww = (domains: string[]): string[] => [...new Set(domains.flatMap(d => [d, 'www.' + d]))]

/** The pages the probes saw as these domains' own (measurements judged ok). */
async function referenceBodies(db: Database, domains: string[], since: Date): Promise<string[]> {
  const docs = await loadOkDocs(db, withWww(domains), since, DISCOVERY_LIMITS.okPages)
  return docs.map(pageBodyOf).filter((b): b is string => b !== null)
}

/**
 * One run: reads the window's anomalous pages, keeps the clusters the rule
 * accepts, drops those whose page the control saw for any measurement of
 * that network in the window, and stores the candidates in place of the
 * previous run's. Returns them.
 */
export async function discoverBlockpages(db: Database, nowMs: number): Promise<Candidate[]> {
  const since = new Date(nowMs - DISCOVERY_RULE.days * 86_400_000)
  const rows = await loadAnomalousDocs(db, since, PAGE_REASONS, DISCOVERY_LIMITS.pages)
  const pages = rows.map(({ doc, ...ctx }) => anomalousPage(doc, ctx)).filter((p): p is AnomalousPage => p !== null)
  const clusters: NetworkCluster[] = []
  const viewsByNetwork = new Map<string, ControlView[]>()
  for (const c of clusterPages(pages)) {
    // "The control never sees it there": not for any target measured from this network.
    const key = `${c.probe_cc} ${c.probe_asn}`
    let views = viewsByNetwork.get(key)
    if (views === undefined) {
      views = await loadControlViews(db, c.probe_cc, c.probe_asn, since, DISCOVERY_LIMITS.controlViews)
      viewsByNetwork.set(key, views)
    }
    if (!views.some(v => controlSaw(c.leader, v))) clusters.push(c)
  }
  const candidates: Candidate[] = []
  for (const group of mergeClusters(clusters)) {
    // The pattern is kept off the pages the probes saw as these sites' own.
    const domains = [...new Set(group.flatMap(c => c.domains))]
    candidates.push(candidateOf(group, await referenceBodies(db, domains, since)))
  }
  await replaceCandidates(db, candidates, new Date(nowMs))
  return candidates
}

/** The discovery job, for startJobs(): hourly by default. */
export function discoveryJob(now: () => number, intervalMs = 3_600_000): Job {
  return {
    name: 'blockpage-discovery',
    intervalMs,
    lockKey: DISCOVERY_JOB_LOCK,
    run: async (_conn, db) => {
      await discoverBlockpages(db, now())
    }
  }
}

/** The scopes an admin may give a new fingerprint (OONI's). */
export const PROMOTE_SCOPES = ['nat', 'isp', 'prod', 'inst', 'vbw', 'fp'] as const

/** What an admin sends to promote a candidate. */
export interface PromoteRequest {
  /** Default: `isp` for one network, `nat` for several. */
  scope?: string
  /** A body substring; default the candidate's. It must be in every member page and in no page judged ok. */
  pattern?: string
  /** Default `bw.<cc>_<id>`. */
  name?: string
  /** Rescore every stored measurement now (default true). */
  rescore?: boolean
}

/** What a promotion did. */
export interface PromoteResult {
  fingerprint: Fingerprint
  version: string
  rescore: RescoreTotals | null
}

function csvLine(header: string[], row: Record<string, unknown>): string {
  return header.map(h => csvCell(row[h] ?? '')).join(',') + '\n'
}

/** Appends one fingerprint to an HTTP fingerprint CSV, in the columns its header names. */
export function appendFingerprint(httpCsv: string, fp: Fingerprint): string {
  const header = httpCsv
    .split(/\r?\n/, 1)[0]
    .split(',')
    .map(h => h.trim())
  const base = httpCsv.endsWith('\n') || httpCsv === '' ? httpCsv : httpCsv + '\n'
  return base + csvLine(header, { ...fp, expected_countries: fp.expected_countries.join(','), source: 'blockwatch' })
}

/**
 * Promotes a stored candidate: checks the pattern against its member pages
 * and the sites' own pages, appends the fingerprint to the stored list
 * (fingerprint_lists, through `source.put`, so every instance picks it up),
 * drops the candidate and, unless told not to, rescores history.
 */
export async function promoteCandidate(db: Database, source: FingerprintSource, id: string, req: PromoteRequest, nowMs: number): Promise<PromoteResult> {
  const cand: CandidateRow | undefined = await getCandidate(db, id)
  if (cand === undefined) throw notFound(`id: no blockpage candidate ${JSON.stringify(id)} (candidates are recomputed each run; list them again)`)
  const scope = req.scope ?? (cand.networks.length > 1 ? 'nat' : 'isp')
  if (!(PROMOTE_SCOPES as readonly string[]).includes(scope)) throw badRequest('scope', `one of ${PROMOTE_SCOPES.join(', ')} (got ${JSON.stringify(scope)})`)
  const pattern = req.pattern ?? cand.pattern
  if (pattern === null || pattern === '') throw badRequest('pattern', 'this candidate has no pattern of its own: send one, a substring of every member page')
  if (holdsAddress(pattern)) throw badRequest('pattern', "holds what looks like an IP address: the list goes to every probe, and a page may echo a probe's address")
  const members = (await loadDocsByUid(db, cand.member_uids)).map(pageBodyOf).filter((b): b is string => b !== null)
  const since = new Date(nowMs - DISCOVERY_RULE.days * 86_400_000)
  if (!members.every(b => b.includes(pattern)) || members.length === 0) throw badRequest('pattern', 'not in every member page of the candidate')
  if (!patternHolds(pattern, members, await referenceBodies(db, cand.domains, since))) throw badRequest('pattern', "found in a page judged ok (a site's own page): it would claim a healthy site")
  const current: FingerprintDb = await source.get()
  const name = req.name ?? `bw.${(cand.countries[0] ?? 'zz').toLowerCase()}_${cand.id.slice(3, 11)}`
  if (!/^[\w.-]{1,64}$/.test(name)) throw badRequest('name', `letters, digits, "_", "." and "-", at most 64 (got ${JSON.stringify(name)})`)
  if (current.http.some(f => f.name === name) || [...current.dns.values()].some(f => f.name === name)) {
    throw new AggError('AGG_ERR_FINGERPRINT_EXISTS', 409, `name: the fingerprint list already has ${JSON.stringify(name)}`)
  }
  const fingerprint: Fingerprint = {
    name,
    scope,
    location_found: 'body',
    pattern_type: 'contains',
    pattern,
    expected_countries: cand.countries,
    confidence_no_fp: 5
  }
  const stored = await storedFingerprintCsv(db)
  // When no admin has stored a list, the list at start-up, written back, is the base.
  const dnsCsv = stored?.dns_csv ?? fingerprintsCsv(current.dns.values())
  const httpCsv = appendFingerprint(stored?.http_csv ?? fingerprintsCsv(current.http), fingerprint)
  const fp = await source.put(dnsCsv, httpCsv)
  await deleteCandidate(db, id)
  const rescore = req.rescore === false ? null : await rescoreAll(db, fp, { staleOnly: true })
  return { fingerprint, version: fp.version, rescore }
}
