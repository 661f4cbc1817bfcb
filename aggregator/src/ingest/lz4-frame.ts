/**
 * A streaming decoder for the LZ4 frame format
 * (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md), as OONI's
 * pipeline wrote it from 2017 to 2020: the "autoclaved" `.json.lz4` and
 * `.tar.lz4` files are many independent frames one after another (one about
 * every 256 KiB of text, with the content size and a content checksum, 4 MiB
 * linked blocks; ooni/pipeline af/shovel/autoclaving.py,
 * LZ4WriteFramedStream), and the older cans are single frames from the `lz4`
 * command. No npm package decodes frames as a stream on Node 20 (see
 * docs/architecture.md), and the format is small: this file is all of it.
 *
 * A damaged frame is reported as a Fault and decoding goes on at the next
 * frame, so that what the other frames hold is still read.
 */
import { type ByteSource, decodeUnits, FormatError, type Fault } from './byte-source.ts'

const FRAME_MAGIC = 0x184d2204
const LEGACY_MAGIC = 0x184c2102
const MAGIC_BYTES = Buffer.from([0x04, 0x22, 0x4d, 0x18])
/** How far back a match may reach (the LZ4 window). */
const WINDOW_BYTES = 65536
const BLOCK_MAX_BYTES: Record<number, number> = { 4: 65536, 5: 262144, 6: 1048576, 7: 4194304 }

/** True when `head` starts like an LZ4 frame (or a skippable frame, which may lead one). */
export function looksLikeLz4(head: Buffer): boolean {
  if (head.length < 4) return false
  const m = head.readUInt32LE(0)
  return m === FRAME_MAGIC || m === LEGACY_MAGIC || (m & 0xfffffff0) === 0x184d2a50
}

/** Decodes concatenated LZ4 frames; yields the decompressed bytes, and a Fault for each damaged frame, then goes on at the next one. */
export async function* decodeLz4Frames(src: ByteSource): AsyncGenerator<Buffer | Fault> {
  let first = true
  yield* decodeUnits(src, MAGIC_BYTES, 'LZ4 frame', async function* (frameAt) {
    const head = await src.read(4)
    if (head.length < 4) throw new FormatError(`${head.length} stray bytes after the last frame`, frameAt)
    const magic = head.readUInt32LE(0)
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // A skippable frame: metadata we do not need.
      const size = (await src.readExactly(4, 'skippable frame')).readUInt32LE(0)
      if ((await src.skip(size)) < size) throw new FormatError('skippable frame is cut short', frameAt)
      return
    }
    if (magic === LEGACY_MAGIC) throw new FormatError('the legacy LZ4 format (lz4 -l) is not supported; recompress with `lz4 -d | lz4`', frameAt)
    if (magic !== FRAME_MAGIC) {
      throw new FormatError(first ? 'not LZ4 frame data' : 'bytes after a frame are not the start of another LZ4 frame', frameAt)
    }
    first = false
    yield* decodeFrame(src, frameAt)
  })
}

async function* decodeFrame(src: ByteSource, frameAt: number): AsyncGenerator<Buffer> {
  const flg = await src.readExactly(2, 'frame descriptor')
  const [f, bd] = flg
  if (f >> 6 !== 1) throw new FormatError(`frame version ${f >> 6}, only version 1 exists`, frameAt + 4)
  if ((f & 0x02) !== 0 || (bd & 0x8f) !== 0) throw new FormatError('reserved bits of the frame descriptor are set', frameAt + 4)
  const independent = (f & 0x20) !== 0
  const blockChecksum = (f & 0x10) !== 0
  const hasSize = (f & 0x08) !== 0
  const contentChecksum = (f & 0x04) !== 0
  const hasDict = (f & 0x01) !== 0
  const blockMax = BLOCK_MAX_BYTES[(bd >> 4) & 7]
  if (blockMax === undefined) throw new FormatError(`block size code ${(bd >> 4) & 7} is not one of 4-7`, frameAt + 5)
  const rest = await src.readExactly((hasSize ? 8 : 0) + (hasDict ? 4 : 0) + 1, 'frame descriptor')
  const descriptor = Buffer.concat([flg, rest.subarray(0, rest.length - 1)])
  if (((xxh32(descriptor) >>> 8) & 0xff) !== rest[rest.length - 1]) throw new FormatError('frame descriptor checksum does not match', frameAt + 4)
  if (hasDict) throw new FormatError('frames compressed with a dictionary are not supported', frameAt + 4)
  const contentSize = hasSize ? Number(rest.readBigUInt64LE(0)) : null
  const sum = contentChecksum ? new Xxh32() : null
  let history = Buffer.alloc(0)
  let produced = 0
  for (;;) {
    const at = src.offset
    const word = (await src.readExactly(4, 'block size')).readUInt32LE(0)
    if (word === 0) break
    const stored = (word & 0x80000000) !== 0
    const size = word & 0x7fffffff
    if (size > blockMax) throw new FormatError(`block of ${size} bytes is larger than the frame's ${blockMax}`, at)
    const data = await src.readExactly(size, 'block')
    if (blockChecksum) {
      const c = (await src.readExactly(4, 'block checksum')).readUInt32LE(0)
      if (c !== xxh32(data)) throw new FormatError('block checksum does not match', at)
    }
    let out: Buffer
    if (stored) {
      out = data
    } else {
      const window = independent ? Buffer.alloc(0) : history
      const dst = Buffer.allocUnsafe(window.length + blockMax)
      window.copy(dst, 0)
      const end = decodeBlock(data, dst, window.length, at)
      out = dst.subarray(window.length, end)
    }
    if (!independent) {
      const keep = Math.min(WINDOW_BYTES, history.length + out.length)
      const fromOut = Math.min(keep, out.length)
      history = Buffer.concat([history.subarray(history.length - (keep - fromOut)), out.subarray(out.length - fromOut)])
    }
    produced += out.length
    if (contentSize !== null && produced > contentSize) throw new FormatError(`frame holds more than its declared ${contentSize} bytes`, at)
    sum?.update(out)
    if (out.length > 0) yield out
  }
  if (contentSize !== null && produced !== contentSize) throw new FormatError(`frame holds ${produced} bytes, its header says ${contentSize}`, src.offset)
  if (sum !== null) {
    const c = (await src.readExactly(4, 'content checksum')).readUInt32LE(0)
    if (c !== sum.digest()) throw new FormatError('content checksum does not match: the frame is damaged', src.offset - 4)
  }
}

/**
 * Decodes one LZ4 block (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md)
 * into `dst` from `start`; `dst` before `start` is the window that matches
 * may reach back into. Returns the end of the output. Every length and
 * offset is checked, so damaged input is an error, never a read or write
 * out of bounds.
 */
export function decodeBlock(src: Buffer, dst: Buffer, start: number, at = 0): number {
  let i = 0
  let o = start
  const bad = (what: string): FormatError => new FormatError(`damaged block: ${what}`, at)
  // A length of 15 goes on in the next bytes, each added, until one is not 255.
  const extended = (what: string): number => {
    let n = 0
    let b: number
    do {
      if (i >= src.length) throw bad(`${what} runs past the block`)
      b = src[i++]
      n += b
    } while (b === 255)
    return n
  }
  while (i < src.length) {
    const token = src[i++]
    let lit = token >> 4
    if (lit === 15) lit += extended('literal length')
    if (i + lit > src.length) throw bad('literals run past the block')
    if (o + lit > dst.length) throw bad('output larger than the block size')
    // Short runs by hand: a Buffer.copy call costs more than a few bytes do.
    if (lit < 32) {
      for (let k = 0; k < lit; k++) dst[o + k] = src[i + k]
    } else {
      src.copy(dst, o, i, i + lit)
    }
    i += lit
    o += lit
    if (i === src.length) break
    if (i + 2 > src.length) throw bad('match offset cut short')
    const offset = src[i] | (src[i + 1] << 8)
    i += 2
    if (offset === 0 || offset > o) throw bad(`match offset ${offset} reaches before the start of the data`)
    let len = (token & 15) + 4
    if ((token & 15) === 15) len += extended('match length')
    if (o + len > dst.length) throw bad('output larger than the block size')
    // A match may overlap its own output (a repeated pattern): short ones
    // byte by byte, long ones in copies that never overlap, each twice as
    // long as the last (what is written repeats with the period `offset`).
    const from = o - offset
    if (len < 32) {
      for (let k = 0; k < len; k++) dst[o + k] = dst[from + k]
      o += len
      continue
    }
    while (len > 0) {
      const n = Math.min(len, o - from)
      dst.copy(dst, o, from, from + n)
      o += n
      len -= n
    }
  }
  return o
}

const P1 = 0x9e3779b1
const P2 = 0x85ebca77
const P3 = 0xc2b2ae3d
const P4 = 0x27d4eb2f
const P5 = 0x165667b1
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))
// Little-endian, without readUInt32LE's bounds checks (the callers stay in bounds).
const u32 = (b: Buffer, i: number): number => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)
const round = (acc: number, input: number): number => Math.imul(rotl((acc + Math.imul(input, P2)) | 0, 13), P1)

/** xxHash32 (seed 0) of one buffer. */
export function xxh32(b: Buffer): number {
  const h = new Xxh32()
  h.update(b)
  return h.digest()
}

/** xxHash32 over data that arrives in pieces (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md). */
export class Xxh32 {
  #v = [(P1 + P2) | 0, P2 | 0, 0, -P1 | 0]
  #tail = Buffer.alloc(16)
  #tailLen = 0
  #total = 0

  update(b: Buffer): void {
    this.#total += b.length
    let i = 0
    if (this.#tailLen > 0) {
      const n = Math.min(16 - this.#tailLen, b.length)
      b.copy(this.#tail, this.#tailLen, 0, n)
      this.#tailLen += n
      i = n
      if (this.#tailLen < 16) return
      this.#stripe(this.#tail, 0)
      this.#tailLen = 0
    }
    for (; i + 16 <= b.length; i += 16) this.#stripe(b, i)
    if (i < b.length) {
      b.copy(this.#tail, 0, i)
      this.#tailLen = b.length - i
    }
  }

  #stripe(b: Buffer, i: number): void {
    const v = this.#v
    v[0] = round(v[0], u32(b, i))
    v[1] = round(v[1], u32(b, i + 4))
    v[2] = round(v[2], u32(b, i + 8))
    v[3] = round(v[3], u32(b, i + 12))
  }

  digest(): number {
    const v = this.#v
    let h = this.#total >= 16 ? (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) | 0 : P5
    h = (h + this.#total) | 0
    let i = 0
    const t = this.#tail
    for (; i + 4 <= this.#tailLen; i += 4) h = Math.imul(rotl((h + Math.imul(t.readUInt32LE(i), P3)) | 0, 17), P4)
    for (; i < this.#tailLen; i++) h = Math.imul(rotl((h + Math.imul(t[i], P5)) | 0, 11), P1)
    h ^= h >>> 15
    h = Math.imul(h, P2)
    h ^= h >>> 13
    h = Math.imul(h, P3)
    h ^= h >>> 16
    return h >>> 0
  }
}
