/**
 * The dns_consistency verdict: the system resolver's answer against the
 * control's and against the other resolvers' (UDP, TCP, DoH). Detects
 * NXDOMAIN injection, empty answers, bogons (when the control holds none),
 * DNS blockpage fingerprints, and injected duplicates (two different
 * replies to one query).
 */
import { confirmsCensorship, matchDnsAnswer, type FingerprintDb, type FingerprintMatch } from '../fingerprints.ts'
import type { Measurement } from '../measurement.ts'
import { isBogon } from './ip.ts'
import { answersOf, arr, failureOf, isObj, obj, str, type Obj } from './read.ts'
import { stepControl } from './steps.ts'
import { CONTROL_MISSING, verdict, type Verdict } from './types.ts'

interface Q {
  engine: string
  ips: string[]
  failure: string | null
  duplicates: Array<{ ips: string[]; failure: string | null }>
}

function queriesOf(tk: Obj): Q[] {
  return arr(tk.queries).map(q => {
    const o = obj(q)
    return {
      engine: str(o.engine) ?? 'system',
      ips: answersOf([o]).map(a => a.ip),
      failure: failureOf(o.failure),
      duplicates: arr(o.x_duplicate_replies).map(d => ({ ips: answersOf([d]).map(a => a.ip), failure: failureOf(obj(d).failure) }))
    }
  })
}

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && a.every(x => b.includes(x))

/** Every reason the dns_consistency verdict gives (words: shared/src/nettests/dns-consistency.ts). */
export type DnsConsistencyReason =
  | 'dns_injection'
  | 'dns_blockpage_fingerprint'
  | 'control_failed'
  | 'down'
  | 'dns_nxdomain'
  | 'dns_no_answer'
  | 'dns_failure'
  | 'control_no_answer'
  | 'dns_bogon'
  | 'ok'
  | 'ok_cdn'
  | 'dns_different_addresses'

export function judgeDnsConsistency(doc: Measurement, fp: FingerprintDb): Verdict<DnsConsistencyReason> | null {
  const tk = doc.test_keys
  if (!isObj(tk) || !Array.isArray(tk.queries) || tk.queries.length === 0) return null
  const queries = queriesOf(tk)
  const fingerprints: FingerprintMatch[] = []
  for (const q of queries) {
    for (const ip of [...q.ips, ...q.duplicates.flatMap(d => d.ips)]) {
      const m = matchDnsAnswer(fp, ip)
      if (m !== null && !fingerprints.some(x => x.name === m.name)) fingerprints.push(m)
    }
  }
  // Two different replies to one query: someone on the path raced the
  // resolver. The most specific finding, so it comes first.
  const injected = queries.find(q => q.duplicates.some(d => !sameSet(d.ips, q.ips) || d.failure !== q.failure))
  if (injected !== undefined) return verdict('dns', false, 'dns_injection', fingerprints, injected.failure)
  if (fingerprints.some(m => confirmsCensorship(m, doc.probe_cc))) return verdict('dns', false, 'dns_blockpage_fingerprint', fingerprints)

  const ctl = stepControl(tk)
  const system = queries.filter(q => q.engine === 'system')
  const main = system.length > 0 ? system : queries.slice(0, 1)
  const ips = [...new Set(main.flatMap(q => q.ips))]
  const failure = main.find(q => q.failure !== null)?.failure ?? null
  if (!ctl.ok) return verdict(null, ips.length > 0 ? true : null, 'control_failed', fingerprints, ctl.failure ?? CONTROL_MISSING)

  if (ips.length === 0) {
    if (ctl.addrs.length === 0) return verdict(false, false, 'down', fingerprints, failure ?? ctl.dnsFailure)
    const reason = failure === 'dns_nxdomain_error' ? 'dns_nxdomain' : failure === null || failure === 'dns_no_answer' ? 'dns_no_answer' : 'dns_failure'
    return verdict('dns', false, reason, fingerprints, failure ?? 'dns_no_answer')
  }
  if (ctl.addrs.length === 0) return verdict(false, true, 'control_no_answer', fingerprints)
  if (ips.some(isBogon) && !ctl.addrs.some(isBogon)) return verdict('dns', false, 'dns_bogon', fingerprints, 'dns_bogon_error')
  if (ips.some(ip => ctl.addrs.includes(ip))) return verdict(false, true, 'ok', fingerprints)
  // No address in common with the control: a CDN answers differently in
  // different places, so an encrypted resolver (DoH) seen from the same
  // network that agrees with the system resolver clears it.
  const encrypted = queries.filter(q => q.engine === 'doh' && q.ips.length > 0)
  if (encrypted.some(q => q.ips.some(ip => ips.includes(ip)))) return verdict(false, true, 'ok_cdn', fingerprints)
  return verdict('dns', false, 'dns_different_addresses', fingerprints)
}
