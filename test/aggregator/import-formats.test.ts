/**
 * `import-ooni` on OONI's bulk files as OONI wrote them (issue 14, item 4),
 * built here from the real samples in ../shared/data with OONI's own tools:
 * postcans with Python's tarfile as ooni/backend's api/ooni_api_uploader.py
 * does (`tarfile.open(…, "w:gz")`, one `.post` per upload under
 * var/lib/ooniapi/measurements/incoming/<hour>_<cc>_<test>/), their twin
 * `.jsonl.gz`, and the autoclaved LZ4 files as ooni/pipeline's
 * af/shovel/autoclaving.py framed them (a new LZ4 frame every 256 KiB of
 * text, level 5, 4 MiB linked blocks, content size and checksum), with the
 * reference `lz4` command. Then the same files damaged: a corrupt gzip
 * member, cut-short archives, a post that is not JSON, a corrupt LZ4 frame.
 */
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib'
import { freshDb, testDriver } from '../helpers/db.ts'
import { missingOoniTools, ooniWrite } from '../helpers/ooni-tools.ts'
import { OONI_SAMPLES } from '../helpers/paths.ts'
import { openDatabase, type Database } from '../../aggregator/src/store/db.ts'
import { readMeasurementFile } from '../../aggregator/src/ingest/read-file.ts'
import { BLOCKWATCH_BIN } from '../helpers/paths.ts'

const BIN = BLOCKWATCH_BIN
type Doc = Record<string, unknown>

const missing = missingOoniTools()

t.test(`import-ooni reads OONI's bulk layouts on ${testDriver()}`, { skip: missing.length > 0 ? `needs ${missing.join(' and ')} (.ci/system-deps installs them)` : false }, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-formats-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, FINGERPRINTS_DIR: '' }
  let open: () => Promise<Database>
  if (testDriver() === 'pg') {
    const tdb = await freshDb({ migrate: false })
    await tdb.db.close()
    t.teardown(async () => {
      await tdb.close().catch(() => {})
    })
    env.DATABASE_URL = tdb.url
    open = async () => await openDatabase({ databaseUrl: tdb.url })
  } else {
    env.DATABASE_URL = ''
    env.BLOCKWATCH_DATA_DIR = join(dir, 'pglite')
    open = async () => await openDatabase({ dataDir: join(dir, 'pglite') })
  }
  const importOoni = async (files: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    await new Promise(resolve => {
      execFile(process.execPath, [BIN, 'aggregator', 'import-ooni', ...files], { env, timeout: 240_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
      })
    })
  const summary = (stdout: string, file: string): { format: string; accepted: number; duplicates: number; rejected: number; unreadable: number } => {
    const line = stdout.split('\n').find(l => l.startsWith(file + ' ('))
    const m = /\((.+)\): (\d+) accepted, (\d+) duplicates, (\d+) rejected(?:, (\d+) unreadable)?/.exec(line ?? '')
    if (m === null) throw new Error(`no summary line for ${file} in:\n${stdout}`)
    return { format: m[1], accepted: Number(m[2]), duplicates: Number(m[3]), rejected: Number(m[4]), unreadable: Number(m[5] ?? 0) }
  }
  /** The report_id of every stored row whose tag matches (LIKE). */
  const stored = async (tag: string): Promise<string[]> => {
    const db = await open()
    try {
      const r = await db.query<{ report_id: string }>('SELECT report_id FROM measurements WHERE report_id LIKE $1 ORDER BY 1', [`%~${tag}`])
      return r.rows.map(row => row.report_id)
    } finally {
      await db.close()
    }
  }

  const samples: Doc[] = readdirSync(OONI_SAMPLES)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map(f => JSON.parse(readFileSync(OONI_SAMPLES + f, 'utf8')) as Doc)
  // A tag in report_id (and in measurement_uid, which one sample carries) makes each copy a document of its own.
  const tagged = (doc: Doc, tag: string): Doc => ({
    ...doc,
    report_id: `${String(doc.report_id)}~${tag}`,
    ...(typeof doc.measurement_uid === 'string' ? { measurement_uid: `${doc.measurement_uid}~${tag}` } : {})
  })
  const jsonl = (docs: Doc[]): string => docs.map(d => JSON.stringify(d) + '\n').join('')
  const ooni = (job: Record<string, unknown>): string[] => ooniWrite(dir, job)
  /** OONI's spool: one .post per upload, one folder per hour × country × test, as the API writes them. */
  const spool = (root: string, docs: Doc[]): Map<string, string[]> => {
    const byHour = new Map<string, string[]>()
    docs.forEach((doc, i) => {
      const start = String(doc.measurement_start_time)
      const stamp = start.replace(/[- :]/g, '')
      const test = String(doc.test_name).replace(/_/g, '')
      const hour = `${stamp.slice(0, 10)}_${String(doc.probe_cc)}_${test}`
      const uid = `${stamp}.${String(i).padStart(6, '0')}_${String(doc.probe_cc)}_${test}_${createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16)}`
      const rel = `var/lib/ooniapi/measurements/incoming/${hour}/${uid}.post`
      mkdirSync(join(root, rel, '..'), { recursive: true })
      writeFileSync(join(root, rel), JSON.stringify({ format: 'json', content: doc }))
      byHour.set(hour, [...(byHour.get(hour) ?? []), rel])
    })
    return byHour
  }
  /** autoclaving.py's LZ4WriteFramedStream: a frame each time 256 KiB of text have been written, cut at a document's end. */
  const autoclave = (pieces: Buffer[], out: string): number[] => {
    const frames: Buffer[] = []
    const firstPiece: number[] = []
    let current: Buffer[] = []
    let len = 0
    const flush = (): void => {
      const raw = join(dir, 'frame.raw')
      writeFileSync(raw, Buffer.concat(current))
      execFileSync('lz4', ['-q', '-f', '-5', '-B7', '-BD', '--content-size', raw, raw + '.lz4'])
      frames.push(readFileSync(raw + '.lz4'))
      current = []
      len = 0
    }
    pieces.forEach((p, i) => {
      if (len === 0) firstPiece.push(i)
      current.push(p)
      len += p.length
      if (len >= 262144) flush()
    })
    if (len > 0) flush()
    writeFileSync(out, Buffer.concat(frames))
    return firstPiece
  }

  // The plain JSONL of the samples gives what every layout must give again.
  const plain = join(dir, 'samples.jsonl')
  writeFileSync(plain, jsonl(samples.map(d => tagged(d, 'plain'))))
  const base = await importOoni(['--quiet', plain])
  t.equal(base.code, 0, base.stderr)
  const want = summary(base.stdout, plain)
  t.equal(want.format, 'jsonl')
  t.equal(want.accepted + want.duplicates, samples.length, 'every sample is read (a repeated one counts as a duplicate)')
  t.equal(want.rejected + want.unreadable, 0)
  t.equal((await stored('plain')).length, want.accepted)

  t.test('every layout as OONI published it', async t => {
    // raw/<day>/<hour>/<cc>/<test>/<hour>_<cc>_<test>.n0.0.tar.gz and its twin .jsonl.gz.
    const root = join(dir, 'spool')
    const hours = spool(
      root,
      samples.map(d => tagged(d, 'can'))
    )
    const postcans: string[] = []
    const twins: string[] = []
    for (const [hour, files] of hours) {
      const can = join(dir, `${hour}.n0.0.tar.gz`)
      const names = ooni({ kind: 'postcan', root, out: can, gzip: true, files })
      t.same(names, files, `${hour}: the archive holds OONI's paths`)
      postcans.push(can)
      const twin = join(dir, `${hour}.n0.0.jsonl.gz`)
      writeFileSync(twin, gzipSync(files.map(rel => JSON.stringify((JSON.parse(readFileSync(join(root, rel), 'utf8')) as { content: Doc }).content) + '\n').join('')))
      twins.push(twin)
    }
    // A postcan of the first weeks, named .tar.gz but not compressed.
    const oldRoot = join(dir, 'old-spool')
    const oldFiles = [
      ...spool(
        oldRoot,
        samples.map(d => tagged(d, 'oldcan'))
      ).values()
    ].flat()
    const oldCan = join(dir, '2020102100_XX_mixed.n0.0.tar.gz')
    ooni({ kind: 'postcan', root: oldRoot, out: oldCan, gzip: false, files: oldFiles })
    // Autoclaved JSONL (…-probe.json.lz4): eight copies of the samples, so that it takes several frames.
    const lines = Array.from({ length: 8 }, (_, k) => samples.map(d => Buffer.from(JSON.stringify(tagged(d, `lz4j${k}`)) + '\n'))).flat()
    const jsonLz4 = join(dir, '20170531T200005Z-IR-AS197207-web_connectivity-20170531T200006Z_AS197207_x-0.2.0-probe.json.lz4')
    const frameStarts = autoclave(lines, jsonLz4)
    t.ok(frameStarts.length >= 3, `the autoclaved file has ${frameStarts.length} frames`)
    // An autoclaved can (web_connectivity.00.tar.lz4): a GNU tar of JSONL reports, framed the same way.
    const canRoot = join(dir, 'can')
    mkdirSync(join(canRoot, '2017-06-01'), { recursive: true })
    const reports = Array.from({ length: 4 }, (_, k) => {
      const rel = `2017-06-01/20170601T00000${k}Z-XX-AS0-web_connectivity-r${k}-0.2.0-probe.json`
      writeFileSync(join(canRoot, rel), jsonl(samples.map(d => tagged(d, `lz4t${k}`))))
      return rel
    })
    const canTar = join(dir, 'can.tar')
    ooni({ kind: 'can', root: canRoot, out: canTar, files: reports })
    const tarBytes = readFileSync(canTar)
    const tarPieces = Array.from({ length: Math.ceil(tarBytes.length / 65536) }, (_, i) => tarBytes.subarray(i * 65536, (i + 1) * 65536))
    const tarLz4 = join(dir, 'web_connectivity.00.tar.lz4')
    autoclave(tarPieces, tarLz4)

    const all = [...postcans, ...twins, oldCan, jsonLz4, tarLz4]
    const r = await importOoni(all)
    t.equal(r.code, 0, r.stderr.slice(-2000))
    t.match(r.stderr, /\[#+\] 100% /, 'a progress bar')
    let fromPostcans = 0
    for (const [i, can] of postcans.entries()) {
      const s = summary(r.stdout, can)
      const entries = [...hours.values()][i].length
      t.equal(s.format, 'tar.gz')
      t.equal(s.accepted + s.duplicates, entries, `${can}: every post is read`)
      t.equal(s.rejected + s.unreadable, 0)
      fromPostcans += s.accepted
    }
    t.equal(fromPostcans, want.accepted, 'the postcans hold the samples')
    t.equal((await stored('can')).length, want.accepted, 'and store each one')
    for (const [i, twin] of twins.entries()) {
      const s = summary(r.stdout, twin)
      t.same(s, { format: 'jsonl.gz', accepted: 0, duplicates: [...hours.values()][i].length, rejected: 0, unreadable: 0 }, `${twin}: the twin of a postcan adds nothing`)
    }
    t.same(summary(r.stdout, oldCan), { ...want, format: 'tar' }, 'a postcan that is not compressed')
    t.same(summary(r.stdout, jsonLz4), { format: 'jsonl.lz4', accepted: 8 * want.accepted, duplicates: 8 * want.duplicates, rejected: 0, unreadable: 0 }, 'autoclaved .json.lz4')
    t.same(summary(r.stdout, tarLz4), { format: 'tar.lz4', accepted: 4 * want.accepted, duplicates: 4 * want.duplicates, rejected: 0, unreadable: 0 }, 'autoclaved .tar.lz4')
    for (let k = 0; k < 8; k++) t.equal((await stored(`lz4j${k}`)).length, want.accepted)
    t.match(r.stdout, new RegExp(`^import-ooni: ${fromPostcans + 13 * want.accepted} imported, .* from ${all.length} files`, 'm'))

    const again = await importOoni(['--quiet', jsonLz4])
    t.same(summary(again.stdout, jsonLz4), { format: 'jsonl.lz4', accepted: 0, duplicates: 8 * samples.length, rejected: 0, unreadable: 0 }, 'a second import stores nothing twice')
  })

  t.test('damaged files: each fault named, the documents beside it imported', async t => {
    // Every document tagged apart, so that what is stored tells exactly which were read.
    const uniq = (tag: string): Doc[] => samples.map((d, i) => tagged(d, `${tag}${i}`))

    // jsonl.gz of three gzip members (`cat a.gz b.gz c.gz`), the middle one corrupt.
    const members = ['gzA', 'gzB', 'gzC'].map(tag => gzipSync(jsonl(uniq(tag))))
    const bad = Buffer.from(members[1])
    for (let i = Math.floor(bad.length / 3); i < Math.floor(bad.length / 3) + 64; i++) bad[i] ^= 0xa5
    const gz = join(dir, 'three-members.jsonl.gz')
    writeFileSync(gz, Buffer.concat([members[0], bad, members[2]]))

    // A postcan cut short at 60 % of its bytes, and one whose third post is not JSON.
    const cutRoot = join(dir, 'cut-spool')
    const cutFiles = [...spool(cutRoot, uniq('cut')).values()].flat()
    const cutFull = join(dir, 'cut-full.tar.gz')
    const cutNames = ooni({ kind: 'postcan', root: cutRoot, out: cutFull, gzip: true, files: cutFiles })
    // Cut where what can still be inflated ends inside an entry's data (not in a header, which has no name to report).
    const cutGz = readFileSync(cutFull)
    const entries = entryData(gunzipSync(cutGz))
    let cutIndex = -1
    let cutAt = Math.floor(cutGz.length * 0.6)
    for (; cutAt > 0; cutAt -= 97) {
      const got = gunzipSync(cutGz.subarray(0, cutAt), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).length
      cutIndex = entries.findIndex(e => got > e.start + 16 && got < e.end)
      if (cutIndex > 0) break
    }
    const cut = join(dir, '2024030100_XX_cut.n0.0.tar.gz')
    writeFileSync(cut, cutGz.subarray(0, cutAt))
    const njRoot = join(dir, 'nj-spool')
    const njFiles = [...spool(njRoot, uniq('nj')).values()].flat()
    writeFileSync(join(njRoot, njFiles[2]), '{"format": "json", "content": {"test_name": "web_connectivity", oops')
    const nj = join(dir, '2024030100_XX_notjson.n0.0.tar.gz')
    ooni({ kind: 'postcan', root: njRoot, out: nj, gzip: true, files: njFiles })
    // An uncompressed postcan cut inside its fifth entry's data.
    const tcutRoot = join(dir, 'tcut-spool')
    const tcutFiles = [...spool(tcutRoot, uniq('tcut')).values()].flat()
    const tcutFull = join(dir, 'tcut-full.tar')
    const tcutNames = ooni({ kind: 'postcan', root: tcutRoot, out: tcutFull, gzip: false, files: tcutFiles })
    const tcutBytes = readFileSync(tcutFull)
    const fifth = entryData(tcutBytes)[4].start
    const tcut = join(dir, '2020102100_XX_tcut.n0.0.tar.gz')
    writeFileSync(tcut, tcutBytes.subarray(0, fifth + 100))
    // Autoclaved .json.lz4 with its second frame corrupt.
    const lzLines = Array.from({ length: 6 }, (_, k) => uniq(`lzb${k}x`).map(d => Buffer.from(JSON.stringify(d) + '\n'))).flat()
    const lzBad = join(dir, 'damaged.json.lz4')
    const starts = autoclave(lzLines, lzBad)
    t.ok(starts.length >= 3)
    const lzBytes = readFileSync(lzBad)
    const frame2 = findFrame(lzBytes, 1)
    for (let i = frame2 + 4000; i < frame2 + 4040; i++) lzBytes[i] ^= 0x5a
    writeFileSync(lzBad, lzBytes)

    const r = await importOoni([gz, cut, nj, tcut, lzBad])
    t.equal(r.code, 1, 'unreadable parts make the exit code 1')

    t.match(r.stderr, new RegExp(`unreadable: ${gz}: gzip member at byte ${members[0].length}: `), 'the corrupt member, by its offset')
    t.equal((await stored('gzA%')).length, samples.length, 'the member before it is imported')
    t.equal((await stored('gzC%')).length, samples.length, 'and the member after it')
    t.equal(summary(r.stdout, gz).unreadable, 1)

    t.match(r.stderr, `inside entry ${cutNames[cutIndex]}: `, `the cut entry is named (${cutNames[cutIndex]})`)
    t.same(
      (await stored('cut%')).sort(),
      cutNames
        .slice(0, cutIndex)
        .map(n => String(postDoc(cutRoot, n).report_id))
        .sort(),
      'every entry before the cut is imported'
    )
    t.match(r.stderr, new RegExp(`unreadable: ${cut}: gzip member at byte 0: cut short.*; archive is cut short inside entry`))
    t.equal(summary(r.stdout, cut).unreadable, 1, 'the cut gzip stream and the cut archive are one damaged part')

    t.match(r.stderr, new RegExp(`rejected: ${nj} entry ${njFiles[2].replace(/\./g, '\\.')}: not valid JSON`), 'the post that is not JSON, by its entry')
    t.same(summary(r.stdout, nj), { format: 'tar.gz', accepted: samples.length - 1, duplicates: 0, rejected: 1, unreadable: 0 }, 'the others are imported')

    t.match(r.stderr, new RegExp(`unreadable: ${tcut}: archive is cut short inside entry ${tcutNames[4].replace(/\./g, '\\.')}: 100 of its \\d+ bytes`))
    t.same(
      (await stored('tcut%')).sort(),
      tcutNames
        .slice(0, 4)
        .map(n => String(postDoc(tcutRoot, n).report_id))
        .sort(),
      'the four whole entries are imported'
    )

    t.match(r.stderr, new RegExp(`unreadable: ${lzBad}: LZ4 frame at byte ${frame2}: `), 'the corrupt frame, by its offset')
    const lzStored = new Set(await stored('lzb%'))
    const frameOf = (i: number): number => starts.filter(s => s <= i).length - 1
    const outside = lzLines.map((l, i) => ({ id: String((JSON.parse(l.toString()) as Doc).report_id), frame: frameOf(i) })).filter(x => x.frame !== 1)
    t.same(
      outside.filter(x => !lzStored.has(x.id)),
      [],
      `every document of the ${starts.length - 1} sound frames is imported`
    )
    t.equal(summary(r.stdout, lzBad).unreadable, 1)
  })

  t.test('damaged bytes anywhere: faults and rejections, never a crash', async t => {
    // The samples as a postcan, a plain tar, an autoclaved .json.lz4 and a jsonl.gz, each damaged at random places.
    const root = join(dir, 'fuzz-spool')
    const files = [...spool(root, samples).values()].flat()
    const can = join(dir, 'fuzz.tar.gz')
    ooni({ kind: 'postcan', root, out: can, gzip: true, files })
    const tar = join(dir, 'fuzz.tar')
    ooni({ kind: 'postcan', root, out: tar, gzip: false, files })
    const lz = join(dir, 'fuzz.json.lz4')
    autoclave(Array.from({ length: 4 }, () => samples.map(d => Buffer.from(JSON.stringify(d) + '\n'))).flat(), lz)
    const gz = join(dir, 'fuzz.jsonl.gz')
    writeFileSync(gz, Buffer.concat([gzipSync(jsonl(samples)), gzipSync(jsonl(samples))]))
    let seed = 14
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const outcomes = new Map<string, { docs: number; rejected: number; faults: number }>()
    for (const original of [can, tar, lz, gz]) {
      const bytes = readFileSync(original)
      const o = { docs: 0, rejected: 0, faults: 0 }
      for (let round = 0; round < 40; round++) {
        const damaged = Buffer.from(bytes)
        for (let k = 0; k < 1 + random(4); k++) damaged[random(damaged.length)] ^= 1 + random(255)
        const file = join(dir, `fuzzed${original.slice(original.indexOf('.'))}`)
        writeFileSync(file, round % 5 === 4 ? damaged.subarray(0, random(damaged.length)) : damaged)
        for await (const b of readMeasurementFile(file, 1000)) {
          o.faults += b.faults.length
          for (const it of b.items)
            if ('doc' in it) o.docs++
            else o.rejected++
        }
      }
      outcomes.set(original.slice(original.lastIndexOf('/') + 1), o)
      t.ok(o.faults + o.rejected > 0, `${original}: the damage is seen`)
    }
    t.comment(JSON.stringify(Object.fromEntries(outcomes)))
  })
})

/** Where the data of each regular file of an uncompressed tar lies (pax headers skipped). */
function entryData(tar: Buffer): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = []
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const type = String.fromCharCode(tar[at + 156])
    const size = parseInt(
      tar
        .subarray(at + 124, at + 136)
        .toString('latin1')
        .replace(/\0.*$/, '')
        .trim(),
      8
    )
    if (type === '0' || type === '\0') out.push({ start: at + 512, end: at + 512 + size })
    at += 512 + Math.ceil(size / 512) * 512
  }
  return out
}

/** The offset of the n-th LZ4 frame of a file of concatenated frames. */
function findFrame(b: Buffer, n: number): number {
  const magic = Buffer.from([0x04, 0x22, 0x4d, 0x18])
  let at = 0
  for (let i = 0; i < n; i++) at = b.indexOf(magic, at + 4)
  return at
}

function postDoc(root: string, rel: string): Doc {
  return (JSON.parse(readFileSync(join(root, rel), 'utf8')) as { content: Doc }).content
}
