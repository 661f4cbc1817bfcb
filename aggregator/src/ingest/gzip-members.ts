/**
 * Gzip (RFC 1952) read member by member, as a stream: node:zlib inflates each
 * member's deflate data, and this file reads the headers and trailers around
 * it, so that it knows where each member ends. A file may hold several
 * members (`cat a.jsonl.gz b.jsonl.gz`); when one is damaged, a Fault says
 * where, and reading goes on at the next member, so that the documents in
 * the other members are not lost.
 */
import * as zlib from 'node:zlib'
import { type ByteSource, decodeUnits, FormatError, type Fault } from './byte-source.ts'

const MAGIC = Buffer.from([0x1f, 0x8b, 0x08])

/** True when `head` starts like gzip. */
export function looksLikeGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b
}

/**
 * Decompresses every member; yields the bytes, and a Fault where a member is
 * damaged, then goes on at the next member (a reader that cannot resume, such
 * as a tar archive's, stops at the first Fault).
 */
export async function* gunzipMembers(src: ByteSource): AsyncGenerator<Buffer | Fault> {
  let members = 0
  yield* decodeUnits(src, MAGIC, 'gzip member', async function* (memberAt) {
    const magic = await src.read(3)
    if (!magic.equals(MAGIC)) {
      throw new FormatError(members === 0 ? 'not gzip data' : `${magic.length >= 3 ? 'bytes' : `${magic.length} stray bytes`} after the last gzip member that are not another member`, memberAt)
    }
    members++
    yield* inflateMember(src, memberAt)
  })
}

async function* inflateMember(src: ByteSource, memberAt: number): AsyncGenerator<Buffer> {
  const head = await src.readExactly(7, 'gzip header')
  const flags = head[0]
  if ((flags & 0xe0) !== 0) throw new FormatError('reserved header flags are set', memberAt + 3)
  if ((flags & 0x04) !== 0) await src.readExactly((await src.readExactly(2, 'gzip extra field')).readUInt16LE(0), 'gzip extra field')
  if ((flags & 0x08) !== 0) await skipZeroTerminated(src, 'gzip file name')
  if ((flags & 0x10) !== 0) await skipZeroTerminated(src, 'gzip comment')
  if ((flags & 0x02) !== 0) await src.readExactly(2, 'gzip header checksum')

  const inflate = zlib.createInflateRaw({ chunkSize: 65536 })
  const out: Buffer[] = []
  let ended = false
  let failure: Error | null = null
  inflate.on('data', (b: Buffer) => out.push(b))
  inflate.on('end', () => {
    ended = true
  })
  let wake: (() => void) | null = null
  inflate.on('error', (e: Error) => {
    failure = e
    wake?.()
  })
  let written = 0
  let crc = 0
  let size = 0
  const dataAt = src.offset
  try {
    while (!ended) {
      const c = await src.chunk(262144)
      if (c === null) {
        throw new FormatError(`cut short: the deflate data ends after ${src.offset - dataAt} bytes without its end`, src.offset)
      }
      // A damaged stream fails with 'error' and never calls the write's callback.
      await new Promise<void>(resolve => {
        wake = resolve
        inflate.write(c, () => resolve())
      })
      // 'end' comes after the write's callback: wait one turn for it.
      await new Promise<void>(resolve => setImmediate(resolve))
      written += c.length
      if (failure !== null) {
        // The next member may start inside this chunk: give it back for the search.
        src.unread(c)
        throw new FormatError(`damaged deflate data, found after byte ${dataAt + inflate.bytesWritten} (${(failure as Error).message})`, memberAt)
      }
      for (const b of out.splice(0)) {
        crc = crc32(b, crc)
        size += b.length
        yield b
      }
      if (ended) src.unread(c.subarray(c.length - (written - inflate.bytesWritten)))
    }
  } finally {
    inflate.destroy()
  }
  const trailer = await src.readExactly(8, 'gzip trailer')
  if (crc32Available && trailer.readUInt32LE(0) !== crc) throw new FormatError('CRC-32 does not match: the member is damaged', src.offset - 8)
  if (trailer.readUInt32LE(4) !== size % 0x100000000) throw new FormatError(`length does not match: ${size} bytes, the trailer says ${trailer.readUInt32LE(4)}`, src.offset - 4)
}

async function skipZeroTerminated(src: ByteSource, what: string): Promise<void> {
  for (;;) {
    const c = await src.chunk()
    if (c === null) throw new FormatError(`${what} is cut short`, src.offset)
    const z = c.indexOf(0)
    if (z !== -1) {
      src.unread(c.subarray(z + 1))
      return
    }
  }
}

// zlib.crc32 came in Node 20.15; before it, the length check alone guards the data.
const crc32Available = typeof (zlib as { crc32?: unknown }).crc32 === 'function'
function crc32(b: Buffer, prev: number): number {
  return crc32Available ? (zlib as unknown as { crc32: (d: Buffer, v: number) => number }).crc32(b, prev) : 0
}
