/**
 * Reading measurement files for `import` and `import-ooni`, in every layout
 * OONI has published (docs/api.md, "Importing files"):
 *
 * - JSONL, one document a line (OONI's `jsonl/` and `raw/` files, and
 *   `blockwatch probe export`), plain, gzip (`.jsonl.gz`) or LZ4 (the
 *   autoclaved `.json.lz4`);
 * - tar archives of documents: postcans (`raw/…/*.tar.gz`, one probe upload a
 *   `.post` file, `{"format": "json", "content": {…}}`; some older ones are
 *   named `.tar.gz` but not compressed) and the LZ4 cans (`.tar.lz4`, JSONL
 *   reports inside);
 * - one JSON document, or a JSON array of them.
 *
 * The compression and the layout are told by the bytes, not the name. Every
 * layer streams, so a file of any size runs in constant memory. A damaged
 * part (a corrupt gzip member or LZ4 frame, a cut-short archive, a line that
 * is not JSON) is reported with where it is, and the rest is still read.
 */
import { createReadStream, statSync } from 'node:fs'
import type { BatchItem } from './body.ts'
import { ByteSource, FormatError, isFault, type Fault } from './byte-source.ts'
import { gunzipMembers, looksLikeGzip } from './gzip-members.ts'
import { decodeLz4Frames, looksLikeLz4 } from './lz4-frame.ts'
import { isTarHeader, readTar, type TarEntry } from './tar-reader.ts'

/** Progress while reading: bytes of the file read so far, its size, and the layout found. */
export interface ReadProgress {
  bytesRead: number
  totalBytes: number
  format?: string
}

/** A batch of documents, each with where it was in the file (`line 3`, `entry a/b.post`), and the parts that could not be read. */
export interface ReadBatch {
  items: BatchItem[]
  where: string[]
  faults: string[]
}

/** Largest document (one line, one entry, or a whole JSON file) read: as large as the upload API takes decompressed. */
export const MAX_DOCUMENT_BYTES = 100 * 1024 * 1024

interface DocPiece {
  item: BatchItem
  where: string
}
type Piece = DocPiece | Fault

/** Reads a file in batches of up to `batchSize` documents; `progress` is updated as it goes. */
export async function* readMeasurementFile(path: string, batchSize = 1000, progress: ReadProgress = { bytesRead: 0, totalBytes: 0 }): AsyncGenerator<ReadBatch> {
  progress.totalBytes = statSync(path).size
  let batch: ReadBatch = { items: [], where: [], faults: [] }
  for await (const p of pieces(path, progress)) {
    if ('fault' in p) {
      batch.faults.push(p.fault)
    } else {
      batch.items.push(p.item)
      batch.where.push(p.where)
    }
    if (batch.items.length >= batchSize) {
      yield batch
      batch = { items: [], where: [], faults: [] }
    }
  }
  if (batch.items.length > 0 || batch.faults.length > 0) yield batch
}

async function* pieces(path: string, progress: ReadProgress): AsyncGenerator<Piece> {
  const file = new ByteSource(
    (async function* () {
      for await (const c of createReadStream(path, { highWaterMark: 262144 })) {
        progress.bytesRead += (c as Buffer).length
        yield c as Buffer
      }
    })()
  )
  try {
    const head = await file.read(4)
    file.unread(head)
    let container = ''
    let bytes: AsyncIterable<Buffer | Fault> = chunksOf(file)
    if (looksLikeGzip(head)) {
      container = '.gz'
      bytes = gunzipMembers(file)
    } else if (looksLikeLz4(head)) {
      container = '.lz4'
      bytes = decodeLz4Frames(file)
    }
    const peek = await peekBytes(bytes, 512)
    if (isTarHeader(peek.head)) {
      progress.format = `tar${container}`
      yield* tarPieces(peek.rest)
      return
    }
    const text = peek.head.toString('utf8').trimStart()
    const firstLine = text.split('\n')[0].trim()
    if (text.startsWith('---')) {
      progress.format = `yaml${container}`
      yield { fault: "a YAML report (OONI's format before 2016, and the .yaml.lz4 files) is not supported: convert it to JSON first" }
    } else if (firstLine === '{' || text.startsWith('[')) {
      progress.format = `json${container}`
      yield* wholeJsonPieces(peek.rest)
    } else {
      progress.format = `jsonl${container}`
      yield* jsonlPieces(peek.rest, '')
    }
  } finally {
    await file.close()
  }
}

async function* chunksOf(src: ByteSource): AsyncGenerator<Buffer> {
  for (let c = await src.chunk(); c !== null; c = await src.chunk()) yield c
}

/** The first `n` bytes (fewer at a fault or the end), and the whole stream again. */
async function peekBytes(stream: AsyncIterable<Buffer | Fault>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer | Fault> }> {
  const it = stream[Symbol.asyncIterator]()
  const seen: Array<Buffer | Fault> = []
  let got = 0
  let done = false
  while (got < n) {
    const r = await it.next()
    if (r.done === true) {
      done = true
      break
    }
    seen.push(r.value)
    if (isFault(r.value)) break
    got += r.value.length
  }
  const head = Buffer.concat(seen.filter((p): p is Buffer => !isFault(p))).subarray(0, n)
  const rest = (async function* () {
    yield* seen
    if (!done) yield* { [Symbol.asyncIterator]: () => it }
  })()
  return { head, rest }
}

/** JSONL: one document a line, blank lines skipped. After a fault, the line it cut is dropped and counting goes on. */
async function* jsonlPieces(stream: AsyncIterable<Buffer | Fault>, prefix: string): AsyncGenerator<Piece> {
  let parts: Buffer[] = []
  let len = 0
  let line = 0
  let tooLong = false
  const finish = (): Piece | null => {
    line++
    const where = `${prefix}line ${line}`
    const text = tooLong ? '' : Buffer.concat(parts, len).toString('utf8').trim()
    const wasTooLong = tooLong
    parts = []
    len = 0
    tooLong = false
    if (wasTooLong) return { item: { parseError: `longer than ${MAX_DOCUMENT_BYTES} bytes` }, where }
    if (text === '') return null
    return parse(text, where)
  }
  for await (const c of stream) {
    if (isFault(c)) {
      parts = []
      len = 0
      tooLong = false
      yield { fault: `${c.fault}; the text after ${prefix}line ${line} up to the next readable part is lost` }
      continue
    }
    let start = 0
    for (;;) {
      const nl = c.indexOf(0x0a, start)
      const piece = c.subarray(start, nl === -1 ? c.length : nl)
      if (!tooLong) {
        parts.push(piece)
        len += piece.length
        if (len > MAX_DOCUMENT_BYTES) {
          tooLong = true
          parts = []
          len = 0
        }
      }
      if (nl === -1) break
      const p = finish()
      if (p !== null) yield p
      start = nl + 1
    }
  }
  if (len > 0 || tooLong) {
    const p = finish()
    if (p !== null) yield p
  }
}

function parse(text: string, where: string): DocPiece {
  try {
    return { item: { doc: JSON.parse(text) }, where }
  } catch (err) {
    return { item: { parseError: `not valid JSON (${(err as Error).message})` }, where }
  }
}

/** A file that is one JSON document or an array of them: read whole (at most MAX_DOCUMENT_BYTES). */
async function* wholeJsonPieces(stream: AsyncIterable<Buffer | Fault>): AsyncGenerator<Piece> {
  const r = await collect(stream)
  if (r.fault !== null) {
    yield { fault: `${r.fault}; a JSON document cut there cannot be read` }
    return
  }
  if (r.data === null) {
    yield { fault: `a JSON document larger than ${MAX_DOCUMENT_BYTES} bytes: write it as JSONL, one document a line` }
    return
  }
  const p = parse(r.data.toString('utf8'), 'document')
  if ('parseError' in p.item) {
    yield p
    return
  }
  const doc = p.item.doc
  if (!Array.isArray(doc)) {
    yield p
    return
  }
  for (let i = 0; i < doc.length; i++) yield { item: { doc: doc[i] }, where: `element ${i}` }
}

/** All bytes up to MAX_DOCUMENT_BYTES (data null past that), or the first fault. */
async function collect(stream: AsyncIterable<Buffer>): Promise<{ data: Buffer | null; fault: null }>
async function collect(stream: AsyncIterable<Buffer | Fault>): Promise<{ data: Buffer | null; fault: string | null }>
async function collect(stream: AsyncIterable<Buffer | Fault>): Promise<{ data: Buffer | null; fault: string | null }> {
  const parts: Buffer[] = []
  let len = 0
  let over = false
  for await (const c of stream) {
    if (isFault(c)) return { data: null, fault: c.fault }
    if (over) continue
    len += c.length
    if (len > MAX_DOCUMENT_BYTES) {
      over = true
      parts.length = 0
    } else parts.push(c)
  }
  return { data: over ? null : Buffer.concat(parts, len), fault: null }
}

/**
 * A tar archive: `.post` entries are one upload each (OONI's envelope is
 * unwrapped), `.yaml` entries are refused, and any other file is read as
 * JSONL (the cans' `.json` reports). A fault of the compression ends the
 * archive: the entry it cut is reported, those before it are read.
 */
async function* tarPieces(stream: AsyncIterable<Buffer | Fault>): AsyncGenerator<Piece> {
  const faults: string[] = []
  const src = new ByteSource(
    (async function* () {
      for await (const c of stream) {
        if (isFault(c)) {
          faults.push(c.fault)
          return
        }
        yield c
      }
    })()
  )
  // A fault of the compression and the cut it makes in the archive are one damaged part.
  const report = (message: string): Fault => ({ fault: [...faults.splice(0), message].join('; ') })
  try {
    for await (const entry of readTar(src)) {
      try {
        yield* entryPieces(entry)
      } catch (err) {
        if (!(err instanceof FormatError)) throw err
        yield report(err.message)
      }
    }
    // Past the archive's end: read on to the end of the file, so that the compression's own checks (gzip's CRC) run.
    while ((await src.chunk()) !== null) {
      /* trailing zero blocks */
    }
  } catch (err) {
    if (!(err instanceof FormatError)) throw err
    yield report(`${err.message} (at byte ${err.offset} of the archive); the entries before it were read`)
  }
  for (const f of faults.splice(0)) yield { fault: f }
}

async function* entryPieces(entry: TarEntry): AsyncGenerator<Piece> {
  const where = `entry ${entry.name}`
  if (entry.name.endsWith('.yaml')) {
    yield { item: { parseError: "a YAML report (OONI's format before 2016) is not supported" }, where }
    return
  }
  if (!entry.name.endsWith('.post')) {
    yield* jsonlPieces(entry.body, `${where} `)
    return
  }
  if (entry.size > MAX_DOCUMENT_BYTES) {
    yield { item: { parseError: `${entry.size} bytes, larger than ${MAX_DOCUMENT_BYTES}` }, where }
    return
  }
  const { data } = await collect(entry.body)
  const p = parse((data ?? Buffer.alloc(0)).toString('utf8'), where)
  if ('parseError' in p.item) {
    yield p
    return
  }
  yield unwrapPost(p.item.doc, where)
}

/** OONI's spool keeps each upload as {"format": "json", "content": measurement}. */
function unwrapPost(doc: unknown, where: string): DocPiece {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !('content' in doc) || !('format' in doc)) return { item: { doc }, where }
  const { format, content } = doc as { format: unknown; content: unknown }
  if (format !== 'json') return { item: { parseError: `a post in format ${JSON.stringify(format)}; only "json" posts are read` }, where }
  return { item: { doc: content }, where }
}
