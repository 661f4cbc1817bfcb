/**
 * Bucket states: the numeric rules that turn one timeline bucket's counts
 * into blocked / likely_blocked / impaired / ok / insufficient / down.
 * Pure: no I/O, no clock. The rules are written out in docs/methodology.md
 * ("Timelines, states and events"); change both together.
 */

/** A bucket's state. `insufficient` is never shown as ok. */
export type BucketState = 'blocked' | 'likely_blocked' | 'impaired' | 'ok' | 'insufficient' | 'down'

/** The states, most severe first (for legends and sorting). */
export const BUCKET_STATES: readonly BucketState[] = ['blocked', 'likely_blocked', 'impaired', 'down', 'insufficient', 'ok']

/** The counts a bucket holds (OONI's mutually exclusive counts, plus ours). */
export interface BucketCounts {
  measurement_count: number
  ok_count: number
  anomaly_count: number
  confirmed_count: number
  failure_count: number
  /** Counted in ok_count too: probe and control both failed to reach the target. */
  down_count: number
  /** Counted in failure_count too: the probe reached neither the target nor the control. */
  unreachable_count: number
  probe_count: number
  /** Distinct probes with at least one anomalous (anomaly or confirmed) measurement. */
  anomalous_probe_count: number
  /**
   * Distinct independent sources among them: probes that registered in the
   * same minute from the same network count once. Defaults to anomalous_probe_count.
   */
  anomalous_source_count?: number
}

/** The thresholds of the state rules. */
export const STATE_RULES = Object.freeze({
  /** Share of anomalous among usable measurements from which a bucket is blocked or likely_blocked. */
  blockedShare: 0.6,
  /** With a confirmed blockpage, this share is enough for blocked. */
  confirmedShare: 0.5,
  /** Share from which a bucket is impaired (below blockedShare). */
  impairedShare: 0.25,
  /** Usable measurements an impaired bucket needs. */
  impairedMinUsable: 4,
  /** Share of down measurements from which a bucket is down. */
  downShare: 0.5,
  /** Share of unreachable measurements from which a bucket is insufficient (an outage). */
  unreachableShare: 0.5,
  /** Usable measurements an ok bucket needs; fewer is insufficient. */
  okMinUsable: 2
})

/**
 * The state of one bucket. Usable measurements are those that did not fail;
 * anomalous ones are anomaly + confirmed. In order:
 * 1. no usable measurement, or unreachable ≥ 50% of all → insufficient;
 * 2. down ≥ 50% of usable → down;
 * 3. confirmed ≥ 1 and anomalous ≥ 50% of usable → blocked;
 * 4. anomalous ≥ 60% of usable → blocked when ≥ 2 independent sources saw anomalies, else likely_blocked;
 * 5. anomalous ≥ 25% of usable, ≥ 2 anomalous sources, ≥ 4 usable → impaired;
 * 6. ≥ 2 usable → ok; otherwise insufficient.
 */
export function bucketState(c: BucketCounts, rules = STATE_RULES): BucketState {
  const n = c.measurement_count
  const usable = n - c.failure_count
  if (n <= 0 || usable <= 0) return 'insufficient'
  if (c.unreachable_count >= rules.unreachableShare * n) return 'insufficient'
  if (c.down_count >= rules.downShare * usable) return 'down'
  const anomalous = c.anomaly_count + c.confirmed_count
  const sources = c.anomalous_source_count ?? c.anomalous_probe_count
  const share = anomalous / usable
  if (c.confirmed_count >= 1 && share >= rules.confirmedShare) return 'blocked'
  if (share >= rules.blockedShare) return sources >= 2 ? 'blocked' : 'likely_blocked'
  if (share >= rules.impairedShare && sources >= 2 && usable >= rules.impairedMinUsable) return 'impaired'
  return usable >= rules.okMinUsable ? 'ok' : 'insufficient'
}
