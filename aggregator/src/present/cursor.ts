/**
 * Keyset cursors over the measurement list: the sort key
 * (measurement_start_time, measurement_uid) of a page's last row, as opaque
 * base64url text. The dashboard's measurement list pages with these; they
 * are the same text GET /api/v1/measurements writes in next_url.
 */
import { badParam } from '../errors.ts'

/** The cursor after a row. */
export function encodeCursor(row: { measurement_start_time: Date | string; measurement_uid: string }): string {
  return Buffer.from(JSON.stringify([new Date(row.measurement_start_time).toISOString(), row.measurement_uid])).toString('base64url')
}

/** The sort key a cursor holds; a 400 naming `cursor` when the text is no cursor. */
export function decodeCursor(s: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) return [v[0], v[1]]
  } catch {}
  throw badParam('cursor', 'not a cursor this API made; use the next_url of the previous page')
}
