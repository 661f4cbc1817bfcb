/**
 * `limits.maxMemoryMb` held inside the one `probe start` process (issue 17;
 * docs/volunteers.md, "Running as a service"; docs/benchmarks.md, "Probe
 * footprint").
 *
 * V8 takes its heap cap (--max-old-space-size) only when the process starts.
 * Re-running itself with the flag kept a whole second Node process resident
 * for as long as the probe ran (70 MB at rest), and a worker thread with
 * `resourceLimits` costs about 9 MB more than the cap saves at rest. So the
 * probe watches its own heap instead: after each full collection (a major
 * GC, when what V8 keeps is what is live), it compares the heap in use with
 * the limit, and past it calls `onOver` once. `probe start` then stops with
 * an error and a non-zero exit status, as V8's own cap would end it (with an
 * abort), so that a service manager restarts it. A process started with
 * --max-old-space-size (the systemd unit) has V8's cap as well.
 */
import { constants, PerformanceObserver, type NodeGCPerformanceDetail, type PerformanceEntry } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

/** A running watch; `stop()` ends it. */
export interface HeapWatch {
  stop: () => void
}

/** Live heap above the limit: the heap in use after a full collection, and the limit, both in MiB. */
export interface HeapOver {
  usedMb: number
  limitMb: number
}

/**
 * Watches the V8 heap after each full collection and calls `onOver` once,
 * the first time the heap in use exceeds `limitMb` MiB. A limit of 0 or
 * less watches nothing (the config's "none").
 */
export function watchHeap(limitMb: number, onOver: (over: HeapOver) => void): HeapWatch {
  if (limitMb <= 0) return { stop: () => {} }
  let fired = false
  const observer = new PerformanceObserver(list => {
    if (fired) return
    const major = list.getEntries().some(e => (e as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
    if (!major) return
    const usedMb = getHeapStatistics().used_heap_size / (1024 * 1024)
    if (usedMb <= limitMb) return
    fired = true
    observer.disconnect()
    onOver({ usedMb: Math.round(usedMb), limitMb })
  })
  observer.observe({ entryTypes: ['gc'] })
  return { stop: () => observer.disconnect() }
}
