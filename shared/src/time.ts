/**
 * OONI's time format: "YYYY-MM-DD HH:MM:SS", always UTC
 * (ooni/spec, data-formats/df-000-base.md).
 */

export const OONI_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$'

/** Formats a Date (or epoch milliseconds) as an OONI UTC timestamp. */
export function formatOoniTime(date: Date | number): string {
  const d = typeof date === 'number' ? new Date(date) : date
  return d.toISOString().slice(0, 19).replace('T', ' ')
}

/** Parses an OONI UTC timestamp; returns null when it is not one. */
export function parseOoniTime(value: string): Date | null {
  if (!new RegExp(OONI_TIME_PATTERN).test(value)) return null
  const d = new Date(value.replace(' ', 'T') + 'Z')
  return Number.isNaN(d.getTime()) ? null : d
}

/**
 * Parses a researcher's `since`/`until` value: a date (2009-05-23), an OONI
 * timestamp, or an ISO 8601 timestamp. Returns null when it is none of these.
 */
export function parseTimeParam(value: string): Date | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) value += 'T00:00:00Z'
  else if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) value = value.replace(' ', 'T') + 'Z'
  else if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d
}
