/**
 * `blockwatch probe status`: pending, uploaded, failed (quarantined) and
 * dropped counts, the last error, the last check-in, the address that last
 * delivered and the next scheduled runs. Reads the outbox only; never
 * touches the network, and shows what it shows only on this machine.
 */
import { parseFlags, runCommand } from '../../../shared/src/args.ts'
import { LOCATION_FLAGS, loadLocated } from '../config.ts'
import { Outbox } from '../outbox/outbox.ts'
import { lastCheckIn } from '../checkin.ts'

const HELP = `blockwatch probe status — pending, uploaded, failed and dropped counts; the next run

Usage: blockwatch probe status [--json] [--config FILE] [--data-dir DIR]

Example:
  blockwatch probe status --json
`

/** Runs `blockwatch probe status`. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const { values: f } = parseFlags(argv, { ...LOCATION_FLAGS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
    if (f.help === true) { process.stdout.write(HELP); return 0 }
    const cfg = loadLocated(f, process.env)
    const outbox = Outbox.open(cfg.dataDir)
    try {
      const s = outbox.stats()
      const ci = lastCheckIn(outbox)
      let next: { priority: string | null, full: string | null, jitter_s?: number } | null = null
      try { next = JSON.parse(outbox.getMeta('next_runs') ?? 'null') } catch {}
      const quarantined = outbox.quarantined(5)
      const report = {
        aggregator: cfg.aggregatorUrl,
        mirrors: cfg.aggregatorMirrors,
        probe_id: cfg.probeId,
        registered: cfg.token !== null,
        consent: cfg.consent.given,
        pending: s.pending,
        pending_priority: s.pendingPriority,
        pending_bytes: s.pendingBytes,
        uploaded: s.uploaded,
        duplicates: s.duplicates,
        failed: s.quarantined,
        dropped: s.dropped,
        unscrubbable: s.unscrubbable,
        written: s.written,
        last_error: s.lastError,
        last_error_at: s.lastErrorAt,
        last_upload_at: s.lastUploadAt,
        last_route: s.lastRoute === null ? null : { via: s.lastRoute, at: s.lastRouteAt },
        last_check_in: ci === null ? null : { at: ci.at, probe_cc: ci.probeCc, probe_asn: ci.probeAsn, clock_offset_ms: ci.clockOffsetMs, lists: ci.lists.map(l => l.name) },
        next_runs: next,
        quarantined
      }
      if (f.json === true) { process.stdout.write(JSON.stringify(report, null, 2) + '\n'); return 0 }
      const lines = [
        `aggregator   ${report.aggregator}${report.registered ? ` (probe ${report.probe_id})` : ' (not registered: run `blockwatch probe init`)'}`,
        `consent      ${report.consent ? 'given' : 'not given: neutral list only'}`,
        `pending      ${s.pending} (${s.pendingPriority} priority, ${(s.pendingBytes / 1024).toFixed(1)} KiB)`,
        `uploaded     ${s.uploaded} (+${s.duplicates} already on the aggregator)`,
        `failed       ${s.quarantined} rejected as invalid (quarantined, not retried)`,
        `dropped      ${s.dropped} (outbox full)${s.unscrubbable > 0 ? `; ${s.unscrubbable} not stored: could not be scrubbed` : ''}`,
        `last error   ${s.lastError === null ? 'none' : `${s.lastErrorAt ?? ''} ${s.lastError}`}`,
        `last upload  ${s.lastUploadAt ?? 'never'}${s.lastRoute !== null ? ` through ${s.lastRoute}` : ''}`,
        ...(cfg.aggregatorMirrors.length > 0 ? [`mirrors      ${cfg.aggregatorMirrors.join(', ')} (tried in order after the aggregator)`] : []),
        `check-in     ${ci === null ? 'never' : `${ci.at}: ${ci.probeCc} ${ci.probeAsn}, clock offset ${ci.clockOffsetMs} ms, lists ${ci.lists.map(l => l.name).join(', ') || 'none'}`}`,
        `next runs    ${next === null ? 'unknown (is `blockwatch probe start` running?)' : `priority ${next.priority ?? '-'}, full ${next.full ?? '-'} (+ up to ${next.jitter_s ?? 0} s jitter)`}`
      ]
      for (const q of quarantined) lines.push(`  quarantined ${q.uid}: ${q.error}`)
      process.stdout.write(lines.join('\n') + '\n')
      return 0
    } finally { outbox.close() }
  })
}
