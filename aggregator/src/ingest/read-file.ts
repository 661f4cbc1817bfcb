/**
 * Reading measurement files for `import` and `import-ooni`: JSONL (one
 * document a line, as OONI publishes and as `blockwatch probe export`
 * writes), gzip-compressed or not (told by the magic bytes, not the name).
 * A file that holds one pretty-printed document or a JSON array is read
 * whole. Yields batches, so a file of any size runs in constant memory.
 */
import { createReadStream, openSync, readSync, closeSync, statSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Transform } from 'node:stream'
import { createGunzip, gunzipSync } from 'node:zlib'
import type { BatchItem } from './body.ts'

/** Progress while reading: bytes of the file read so far, and its size. */
export interface ReadProgress { bytesRead: number, totalBytes: number }

function head (path: string, n: number): Buffer {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(n)
    const got = readSync(fd, buf, 0, n, 0)
    return buf.subarray(0, got)
  } finally { closeSync(fd) }
}

/** Reads a file in batches of `batchSize` items; `progress` is updated as it goes. */
export async function * readMeasurementFile (path: string, batchSize = 1000, progress: ReadProgress = { bytesRead: 0, totalBytes: 0 }): AsyncGenerator<BatchItem[]> {
  progress.totalBytes = statSync(path).size
  const magic = head(path, 2)
  const gz = magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b
  const firstText = (gz ? gunzipHead(path) : head(path, 4096).toString('utf8')).trimStart()
  const firstLine = firstText.split('\n')[0].trim()
  if (firstLine === '{' || firstLine === '[' || (firstLine.startsWith('[') && !firstLine.endsWith(']'))) {
    // One pretty-printed document, or an array: read whole.
    const raw = readFileSync(path)
    progress.bytesRead = progress.totalBytes
    const text = (gz ? gunzipSync(raw) : raw).toString('utf8')
    let parsed: unknown
    try { parsed = JSON.parse(text) } catch (err) { yield [{ parseError: `${path}: not valid JSON (${(err as Error).message})` }]; return }
    const docs = Array.isArray(parsed) ? parsed : [parsed]
    for (let i = 0; i < docs.length; i += batchSize) yield docs.slice(i, i + batchSize).map(doc => ({ doc }))
    return
  }
  const counter = new Transform({ transform (chunk: Buffer, _e, cb) { progress.bytesRead += chunk.length; cb(null, chunk) } })
  let stream: NodeJS.ReadableStream = createReadStream(path).pipe(counter)
  if (gz) stream = stream.pipe(createGunzip())
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let batch: BatchItem[] = []
  let n = 0
  for await (const line of lines) {
    n++
    const s = line.trim()
    if (s === '') continue
    try { batch.push({ doc: JSON.parse(s) }) } catch (err) { batch.push({ parseError: `line ${n}: not valid JSON (${(err as Error).message})` }) }
    if (batch.length >= batchSize) { yield batch; batch = [] }
  }
  if (batch.length > 0) yield batch
}

function gunzipHead (path: string): string {
  try {
    // Enough of the stream to see how the first document starts.
    const buf = head(path, 65536)
    return gunzipSync(buf, { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString('utf8')
  } catch { return '' }
}
