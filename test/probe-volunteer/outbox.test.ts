// The durable outbox: add/settle/quarantine, the bounded-size drop policy
// (oldest quarantined, then oldest non-priority, then oldest priority), and
// that a committed measurement survives reopening.
import t from 'tap'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import type { Measurement } from '../../shared/src/measurement.ts'

function m(uid: string, pad = 0): Measurement {
  return {
    data_format_version: '0.2.0',
    measurement_uid: uid,
    measurement_start_time: '2026-11-25 10:00:00',
    probe_cc: 'ZZ',
    probe_asn: 'AS0',
    test_name: 'web_connectivity',
    input: 'https://example.com/',
    test_keys: { pad: 'x'.repeat(pad) }
  }
}

t.test('add, batch, settle, quarantine, reopen', async t => {
  const dir = t.testdir()
  let ob = Outbox.open(dir)
  t.equal(ob.add(m('a'), false), true)
  t.equal(ob.add(m('b'), true), true)
  t.equal(ob.add(m('c'), false), true)
  t.equal(ob.add(m('a'), false), false, 'a uid already in the outbox is not added twice')
  ob.close()
  ob = Outbox.open(dir)
  const batch = ob.nextBatch(10)
  t.same(
    batch.map(i => i.uid),
    ['b', 'a', 'c'],
    'priority first, then oldest'
  )
  ob.settle(['b', 'a'], [{ uid: 'c', error: 'test_name: unknown' }], 1)
  const s = ob.stats()
  t.match(s, { pending: 0, uploaded: 2, duplicates: 1, quarantined: 1, written: 3, dropped: 0 })
  t.same(ob.nextBatch(10), [], 'quarantined is never retried')
  t.same(
    ob.quarantined().map(q => q.uid),
    ['c']
  )
  t.same(ob.uploadedUids(), ['a', 'b'])
  ob.close()
})

t.test('when full: oldest non-priority first, then priority; every drop counted', async t => {
  const dir = t.testdir()
  const drops: string[] = []
  const size = Buffer.byteLength(JSON.stringify(m('p1', 1000)))
  const ob = Outbox.open(dir, { maxBytes: size * 4, onDrop: uid => drops.push(uid) })
  ob.add(m('p1', 1000), true)
  ob.add(m('n1', 1000), false)
  ob.add(m('p2', 1000), true)
  ob.add(m('n2', 1000), false)
  ob.add(m('n3', 1000), false) // drops n1
  ob.add(m('p3', 1000), true) // drops n2
  t.same(drops, ['n1', 'n2'])
  ob.add(m('p4', 1000), true) // drops n3
  ob.add(m('p5', 1000), true) // only priority left: drops p1
  t.same(drops, ['n1', 'n2', 'n3', 'p1'])
  t.match(ob.stats(), { dropped: 4, pending: 4 })
  ob.close()
})

t.test('export walks every pending measurement', async t => {
  const ob = Outbox.open(t.testdir())
  for (let i = 0; i < 1200; i++) ob.add(m(`u${String(i).padStart(5, '0')}`), i % 2 === 0)
  t.equal([...ob.pending()].length, 1200)
  ob.close()
})
