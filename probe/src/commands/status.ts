/**
 * `blockwatch probe status`: pending, uploaded, failed (quarantined) and
 * dropped counts, the last error, the last check-in, the address that last
 * delivered and the next scheduled runs. Reads the outbox only; never
 * touches the network, and shows what it shows only on this machine.
 * The table is in the volunteer's language; --json is not translated.
 */
import { LANG_FLAG, parseProbeFlags, probeCommand } from '../i18n/command.ts'
import { displayWidth, type MessageKey } from '../i18n/index.ts'
import { LOCATION_FLAGS, loadLocated } from '../config.ts'
import { Outbox } from '../outbox/outbox.ts'
import { lastCheckIn } from '../checkin.ts'

/** Runs `blockwatch probe status`. */
export async function main(argv: string[]): Promise<number> {
  return await probeCommand(argv, async sp => {
    const { t } = sp
    const { values: f } = parseProbeFlags(sp, argv, { ...LOCATION_FLAGS, ...LANG_FLAG, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
    if (f.help === true) {
      process.stdout.write(t('help.status'))
      return 0
    }
    const cfg = loadLocated(f, process.env)
    const outbox = Outbox.open(cfg.dataDir)
    try {
      const s = outbox.stats()
      const ci = lastCheckIn(outbox)
      let next: { priority: string | null; full: string | null; jitter_s?: number } | null = null
      try {
        next = JSON.parse(outbox.getMeta('next_runs') ?? 'null')
      } catch {}
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
      if (f.json === true) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n')
        return 0
      }
      const none = t('status.none')
      const never = t('status.never')
      const rows: Array<[MessageKey, string]> = [
        ['status.aggregator', t(report.registered ? 'status.registeredAs' : 'status.notRegistered', { url: report.aggregator, probeId: report.probe_id ?? '' })],
        ['status.consent', t(report.consent ? 'status.consentGiven' : 'status.consentNotGiven')],
        ['status.pending', t('status.pendingValue', { pending: s.pending, priority: s.pendingPriority, kib: (s.pendingBytes / 1024).toFixed(1) })],
        ['status.uploaded', t('status.uploadedValue', { uploaded: s.uploaded, duplicates: s.duplicates })],
        ['status.failed', t('status.failedValue', { failed: s.quarantined })],
        ['status.dropped', s.unscrubbable > 0 ? t('status.unscrubbable', { dropped: s.dropped, unscrubbable: s.unscrubbable }) : t('status.droppedValue', { dropped: s.dropped })],
        ['status.lastError', s.lastError === null ? none : `${s.lastErrorAt ?? ''} ${s.lastError}`],
        ['status.lastUpload', s.lastRoute !== null ? t('status.uploadThrough', { at: s.lastUploadAt ?? never, route: s.lastRoute }) : (s.lastUploadAt ?? never)],
        ...(cfg.aggregatorMirrors.length > 0 ? [['status.mirrors', t('status.mirrorsValue', { mirrors: cfg.aggregatorMirrors.join(', ') })] as [MessageKey, string]] : []),
        [
          'status.checkIn',
          ci === null ? never : t('status.checkInValue', { at: ci.at, cc: ci.probeCc, asn: ci.probeAsn, offsetMs: ci.clockOffsetMs, lists: ci.lists.map(l => l.name).join(', ') || none })
        ],
        ['status.nextRuns', next === null ? t('status.nextUnknown') : t('status.nextValue', { priority: next.priority ?? '-', full: next.full ?? '-', jitterS: next.jitter_s ?? 0 })]
      ]
      const labels = rows.map(([k]) => t(k))
      const width = Math.max(...labels.map(displayWidth)) + 2
      const lines = rows.map(([, value], i) => labels[i] + ' '.repeat(width - displayWidth(labels[i])) + value)
      for (const q of quarantined) lines.push('  ' + t('status.quarantined', { uid: q.uid, error: q.error }))
      process.stdout.write(lines.join('\n') + '\n')
      return 0
    } finally {
      outbox.close()
    }
  })
}
