// limits.maxMemoryMb inside the one `probe start` process (probe/src/heap-limit.ts):
// live heap above the limit after a full collection calls back once; a limit of 0
// (none) or above what is live never does. Real allocations, real collections.
// `probe start` stopping on it, end to end, is test/faults/probe-heap-limit.test.ts.
import t from 'tap'
import { getHeapStatistics } from 'node:v8'
import { watchHeap, type HeapOver } from '../../probe/src/heap-limit.ts'

/** Keeps about `mb` MiB alive in old space, in 1 MiB arrays, until a full collection has run and `done()` says so (or 200 rounds). */
async function pressure(mb: number, done: () => boolean): Promise<void> {
  const kept: number[][] = []
  for (let round = 0; round < 200 && !done(); round++) {
    kept.length = 0
    for (let i = 0; i < mb; i++) kept.push(new Array(128 * 1024).fill(round))
    // Let the observer's entries arrive (they are delivered after the collection, in a later task).
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

t.test('live heap above the limit after a full collection: called once, with the figures', async t => {
  const calls: HeapOver[] = []
  const watch = watchHeap(1, over => calls.push(over))
  t.teardown(watch.stop)
  await pressure(32, () => calls.length > 0)
  t.equal(calls.length, 1, 'called back')
  t.equal(calls[0].limitMb, 1)
  t.ok(calls[0].usedMb > 1, `the heap in use, ${calls[0].usedMb} MiB, is above the limit`)
  // Another full collection, told by a second watch: the first stays quiet.
  let again = false
  const second = watchHeap(1, () => {
    again = true
  })
  t.teardown(second.stop)
  await pressure(32, () => again)
  t.ok(again, 'another full collection happened')
  t.equal(calls.length, 1, 'once only')
})

t.test('a limit of 0 (none) or above the live heap never calls back', async t => {
  const none: HeapOver[] = []
  const high: HeapOver[] = []
  const limitMb = Math.ceil(getHeapStatistics().heap_size_limit / (1024 * 1024))
  const a = watchHeap(0, over => none.push(over))
  const b = watchHeap(limitMb, over => high.push(over))
  t.teardown(() => {
    a.stop()
    b.stop()
  })
  // A third watch at 1 MiB tells when a full collection has happened.
  let seen = false
  const probe = watchHeap(1, () => {
    seen = true
  })
  t.teardown(probe.stop)
  await pressure(32, () => seen)
  t.ok(seen, 'a full collection happened')
  t.same(none, [], 'limit 0: never')
  t.same(high, [], `limit ${limitMb} MiB: never`)
})
