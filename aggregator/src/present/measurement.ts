/**
 * A stored measurement's fields as the API writes them, shared by our list
 * (routes/measurements.ts) and OONI's API shape (routes/ooni.ts), which
 * registers under it: here, so that neither route module imports the other.
 */
import type { MeasurementSummary } from '../store/measurements.ts'

/** A time as the API writes it: `2024-01-31T10:00:00Z`. */
export const isoSeconds = (t: Date | string): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')

/**
 * OONI's `scores` of a measurement, from our verdict: blocking_general
 * (1.0 when anomalous or confirmed) and analysis.blocking_type. OONI's
 * fastpath also scores blocking by scope (global, country, isp, local),
 * which our verdict does not estimate.
 */
export function scoresOf(r: Pick<MeasurementSummary, 'anomaly' | 'confirmed' | 'blocking_type'>): Record<string, unknown> {
  return { blocking_general: r.anomaly || r.confirmed ? 1.0 : 0.0, analysis: { blocking_type: r.blocking_type } }
}
