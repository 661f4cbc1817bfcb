/**
 * Identifiers: UUIDv7 for measurement_uid (RFC 9562, time-ordered, so that
 * uids sort by creation time and index well), and a deterministic uid for
 * documents that arrive without one (OONI's), so that a re-import is
 * idempotent.
 */
import { createHash, randomBytes } from 'node:crypto'

/** Mints a UUIDv7 from the given clock reading (milliseconds since the epoch). */
export function uuidv7(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16)
  const ms = BigInt(nowMs)
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn)
  bytes[6] = (bytes[6] & 0x0f) | 0x70
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const h = bytes.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** Serialises a JSON value with object keys sorted, so equal documents hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value as Record<string, unknown>).sort()
  return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
}

/**
 * The uid of a document that carries none: "h-" and the first 32 hex digits
 * of the SHA-256 of its canonical JSON. The prefix keeps these apart from
 * UUIDs and from OONI's own uids.
 */
export function contentUid(doc: unknown): string {
  return 'h-' + createHash('sha256').update(canonicalJson(doc)).digest('hex').slice(0, 32)
}
