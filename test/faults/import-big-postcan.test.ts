/**
 * A large OONI postcan (20,000 posts by default, BIG_POSTCAN_ENTRIES to
 * change it), written with Python's tarfile as OONI's uploader writes them,
 * is read by `import-ooni`'s reader in a process whose V8 heap is smaller
 * than the documents: holding the file, or the documents, would kill it.
 * Here rather than in test/aggregator/import-formats.test.ts because it
 * takes half a minute of both cores.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { missingOoniTools, ooniWrite } from '../helpers/ooni-tools.ts'
import { OONI_SAMPLES, REPO_ROOT } from '../helpers/paths.ts'
import type { ReadProgress } from '../../aggregator/src/ingest/read-file.ts'

const missing = missingOoniTools()

t.test('a large postcan streams in bounded memory', { skip: missing.length > 0 ? `needs ${missing.join(' and ')} (.ci/system-deps installs them)` : false }, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-big-postcan-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const count = Number(process.env.BIG_POSTCAN_ENTRIES ?? 20000)
  const posts = readdirSync(OONI_SAMPLES)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map((f, i) => {
      const p = join(dir, `big-${i}.post`)
      writeFileSync(p, JSON.stringify({ format: 'json', content: JSON.parse(readFileSync(OONI_SAMPLES + f, 'utf8')) }))
      return p
    })
  const sizes = posts.map(p => readFileSync(p).length)
  const textBytes = Array.from({ length: count }, (_, i) => sizes[i % sizes.length]).reduce((a, b) => a + b, 0)
  const big = join(dir, 'big.tar.gz')
  ooniWrite(dir, { kind: 'big', out: big, root: dir, posts, count })
  // Read in a process whose heap is smaller than the documents: holding the file would kill it.
  const heapMiB = 128
  const reader = join(dir, 'read-big.mts')
  writeFileSync(
    reader,
    `
    import { readMeasurementFile } from ${JSON.stringify(join(REPO_ROOT, 'aggregator/src/ingest/read-file.ts'))}
    const progress = { bytesRead: 0, totalBytes: 0 }
    let docs = 0, faults = 0, peak = 0
    const t0 = performance.now()
    for await (const b of readMeasurementFile(process.argv[2], 1000, progress)) {
      docs += b.items.length
      faults += b.faults.length
      peak = Math.max(peak, process.memoryUsage().heapUsed)
    }
    console.log(JSON.stringify({ docs, faults, progress, peak, seconds: (performance.now() - t0) / 1000 }))
  `
  )
  const out = JSON.parse(execFileSync(process.execPath, [`--max-old-space-size=${heapMiB}`, '--import', 'tsx', reader, big], { encoding: 'utf8', cwd: REPO_ROOT })) as {
    docs: number
    faults: number
    progress: ReadProgress
    peak: number
    seconds: number
  }
  const mib = (n: number): string => (n / 2 ** 20).toFixed(0)
  t.ok(textBytes > heapMiB * 2 ** 20, `${mib(textBytes)} MiB of documents, more than the reader's ${heapMiB} MiB heap`)
  t.equal(out.docs, count, 'every post read')
  t.equal(out.faults, 0)
  t.equal(out.progress.bytesRead, out.progress.totalBytes, 'progress reaches the end')
  t.comment(
    `${count} posts, ${mib(out.progress.totalBytes)} MiB gzip, ${mib(textBytes)} MiB of JSON, read in ${out.seconds.toFixed(1)} s (${mib(textBytes / out.seconds)} MiB/s), heap at most ${mib(out.peak)} MiB`
  )
})
