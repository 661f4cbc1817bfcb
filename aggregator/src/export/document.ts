/**
 * The document an export carries: the stored OONI document with the probe
 * scrubbed as on every public route (routes/measurements.ts): no probe_id,
 * probe_ip 127.0.0.1, and `probe`, the probe's monthly pseudonym
 * (pseudonym.ts). docs/privacy.md says why.
 */
import { probePseudonym } from '../pseudonym.ts'
import type { ExportRow } from '../store/export.ts'

/**
 * The scrubbed document as one line of JSON text. The database has already
 * dropped probe_id, probe_ip and probe (store/export.ts); this appends the
 * public values to the object's text rather than parsing and printing the
 * document again, which would cost more than the rest of the export.
 */
export function scrubbedDocument(row: ExportRow, secret: string): string {
  const probe = probePseudonym(secret, row.probe_id, row.measurement_start_time)
  const extra = `"probe_ip": "127.0.0.1", "probe": ${JSON.stringify(probe)}}`
  const text = row.doc_text
  // jsonb prints an object as "{...}" on one line; "{}" has nothing to follow.
  return text === '{}' ? '{' + extra : text.slice(0, -1) + ', ' + extra
}
