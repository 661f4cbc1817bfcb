/**
 * Fault (issue 9): a full disk on the probe. The outbox lives on a tiny
 * tmpfs mounted for the test (needs root; skipped otherwise). Writing until
 * the disk is full must fail loudly (an error, never a silent drop), keep
 * every measurement already committed, leave the database intact and
 * readable, and resume once space is freed.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statfsSync, writeFileSync, unlinkSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import type { Measurement } from '../../shared/src/measurement.ts'
import { sampleMeasurement } from '../helpers/aggregator-app.ts'

function mountTmpfs(dir: string, size: string): string | null {
  if (userInfo().uid !== 0) return 'mounting a tmpfs needs root'
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
    return null
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}`
  }
}

const base = mkdtempSync(join(tmpdir(), 'bw-diskfull-'))
const why = mountTmpfs(base, '2m')
t.teardown(() => {
  if (why === null) {
    try {
      execFileSync('umount', ['-l', base])
    } catch {}
  }
  rmSync(base, { recursive: true, force: true })
})

t.test('a full disk: reported, nothing committed is lost, and the outbox resumes', { skip: why ?? false }, async t => {
  const dir = join(base, 'probe')
  const outbox = Outbox.open(dir)
  t.teardown(() => {
    try {
      outbox.close()
    } catch {}
  })
  // Leave about 600 kB free, then write 4 kB measurements until it is full.
  const freeBytes = (): number => {
    const s = statfsSync(base)
    return s.bavail * s.bsize
  }
  const filler = join(base, 'filler')
  writeFileSync(filler, Buffer.alloc(Math.max(0, freeBytes() - 600 * 1024)))
  const committed: string[] = []
  let failure: (Error & { code?: string }) | null = null
  for (let i = 0; i < 2000 && failure === null; i++) {
    const m = sampleMeasurement('p1', { test_keys: { blocking: false, accessible: true, body: 'x'.repeat(4000) } }) as unknown as Measurement
    try {
      outbox.add(m, false)
      committed.push(m.measurement_uid as string)
    } catch (err) {
      failure = err as Error & { code?: string }
    }
  }
  t.ok(failure !== null, `the disk filled after ${committed.length} measurements, and add() failed`)
  t.match(`${failure?.code ?? ''} ${failure?.message ?? ''}`, /SQLITE_FULL|full|ENOSPC/i, `reported as a full disk (${failure?.code}: ${failure?.message})`)

  const stats = outbox.stats()
  t.equal(stats.pending, committed.length, 'every committed measurement is still pending')
  t.equal(stats.dropped, 0, 'nothing was dropped silently')
  const batch = outbox.nextBatch(committed.length + 10, 64 * 1024 * 1024)
  t.same(
    batch.map(b => b.uid),
    committed,
    'and readable, in order'
  )

  // Free space: the next measurements are committed again.
  unlinkSync(filler)
  const more = sampleMeasurement('p1') as unknown as Measurement
  t.equal(outbox.add(more, false), true, 'after space is freed the outbox takes measurements again')
  t.equal(outbox.stats().pending, committed.length + 1)
  outbox.close()
  const check = new Database(join(dir, 'outbox.sqlite'), { readonly: true })
  t.equal((check.pragma('integrity_check') as Array<{ integrity_check: string }>)[0].integrity_check, 'ok', 'the outbox database is intact')
  check.close()
  t.comment(`disk full: tmpfs of 2 MiB, ${committed.length} measurements committed before SQLITE_FULL, 0 lost, 0 dropped; resumed after freeing space`)
})
