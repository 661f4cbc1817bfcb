/**
 * What happened to a series' events when the event job saved them (issue 17,
 * webhooks; docs/api.md, "Webhooks"): the stored events before, compared
 * with the episodes saved in their place. Pure: no I/O, no clock. The store
 * turns the changes into deliveries in the job's own transaction
 * (store/webhooks.ts).
 */

/** The kinds of change a webhook is told about. */
export const CHANGE_TYPES = ['started', 'networks_changed', 'ended', 'reopened', 'retracted'] as const

/** One kind of change. */
export type ChangeType = (typeof CHANGE_TYPES)[number]

/** One change of one event. `previous_asns` is set for networks_changed. */
export interface EventChange {
  event_id: string
  type: ChangeType
  previous_asns?: string[]
}

/** A stored event before the save. */
export interface StoredState {
  event_id: string
  end: number | null
  asns: string[]
}

/** A saved episode: the event id it was saved under, its end and its networks. */
export interface SavedState {
  event_id: string
  end: number | null
  asns: string[]
}

const sameSet = (a: string[], b: string[]): boolean => {
  const s = new Set(a)
  return s.size === new Set(b).size && b.every(x => s.has(x))
}

/**
 * The changes of the saved events, in the order a receiver should read
 * them: started (new), reopened (it had ended, now it has not),
 * networks_changed, ended (it had not ended, or is new and already over).
 * An event that only grew (more measurements, a later last anomaly) is no
 * change. Stored events that no saved one kept are retracted: the store
 * enqueues those as it deletes them (retractEvents).
 */
export function eventChanges(before: StoredState[], after: SavedState[]): EventChange[] {
  const old = new Map(before.map(s => [s.event_id, s]))
  const out: EventChange[] = []
  for (const a of after) {
    const b = old.get(a.event_id)
    if (b === undefined) {
      out.push({ event_id: a.event_id, type: 'started' })
      if (a.end !== null) out.push({ event_id: a.event_id, type: 'ended' })
      continue
    }
    if (b.end !== null && a.end === null) out.push({ event_id: a.event_id, type: 'reopened' })
    if (!sameSet(b.asns, a.asns)) out.push({ event_id: a.event_id, type: 'networks_changed', previous_asns: [...b.asns] })
    if (b.end === null && a.end !== null) out.push({ event_id: a.event_id, type: 'ended' })
  }
  return out
}
