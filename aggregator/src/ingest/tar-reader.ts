/**
 * A streaming reader of tar archives (POSIX ustar and pax, GNU long names),
 * enough for OONI's postcans and cans: regular files, with the long paths
 * Python's tarfile writes as pax `path` records
 * (`var/lib/ooniapi/measurements/incoming/<hour>_<cc>_<test>/<uid>.post`).
 * Links, devices and folders are skipped. Each entry's bytes are streamed,
 * never the archive. Written here rather than taken from npm: see
 * docs/architecture.md.
 */
import { type ByteSource, FormatError } from './byte-source.ts'

const BLOCK = 512

/** One file of the archive. Read `body` to the end (or not at all) before asking for the next entry. */
export interface TarEntry {
  /** The path as stored (pax or GNU long name when there is one). */
  name: string
  size: number
  /** Offset of the entry's header in the archive. */
  offset: number
  /** The file's bytes; throws a FormatError when the archive ends inside them. */
  body: AsyncIterable<Buffer>
}

/** True when `block` is a tar header (its checksum holds). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false
  const stored = parseOctal(block.subarray(148, 156))
  return stored !== null && stored === headerChecksum(block) && block.subarray(0, 100).some(b => b !== 0)
}

/** The regular files of a tar archive, in order. Throws a FormatError where the archive is damaged or cut short. */
export async function* readTar(src: ByteSource): AsyncGenerator<TarEntry> {
  let longName: string | null = null
  let paxPath: string | null = null
  let paxSize: number | null = null
  let globalPath: string | null = null
  for (;;) {
    const offset = src.offset
    const header = await src.read(BLOCK)
    // The end: two zero blocks, or (leniently) the end of the data at a block boundary.
    if (header.length === 0 || (header.length === BLOCK && header.every(b => b === 0))) return
    if (header.length < BLOCK) throw new FormatError(`archive is cut short: a ${header.length}-byte piece where a 512-byte entry header should be`, offset)
    if (!isTarHeader(header)) throw new FormatError('a damaged entry header (its checksum does not match) where the next entry should start', offset)
    const type = String.fromCharCode(header[156])
    const metadata = type === 'x' || type === 'g' || type === 'L'
    const size = (metadata ? null : paxSize) ?? parseSize(header.subarray(124, 136), offset)
    const padded = Math.ceil(size / BLOCK) * BLOCK
    if (metadata) {
      // Metadata for the next entry (x, L) or all of them (g).
      if (size > 1048576) throw new FormatError(`a ${size}-byte extended header, larger than any path needs`, offset)
      const data = (await src.readExactly(padded, 'extended header')).subarray(0, size)
      if (type === 'L') {
        longName = data.toString('utf8').replace(/\0+$/, '')
      } else {
        const records = parsePax(data, offset)
        if (type === 'x') {
          paxPath = records.get('path') ?? paxPath
          const s = records.get('size')
          if (s !== undefined) paxSize = Number(s)
        } else {
          globalPath = records.get('path') ?? globalPath
        }
      }
      continue
    }
    const name = paxPath ?? longName ?? globalPath ?? ustarName(header)
    longName = null
    paxPath = null
    paxSize = null
    if (type !== '0' && type !== '\0' && type !== '7') {
      // A folder, link or device: no data of ours.
      if ((await src.skip(padded)) < padded) throw new FormatError(`archive is cut short inside entry ${name}`, offset)
      continue
    }
    let consumed = 0
    let cut = false
    const body = (async function* (): AsyncGenerator<Buffer> {
      while (consumed < size) {
        const c = await src.chunk(size - consumed)
        if (c === null) {
          cut = true
          throw new FormatError(`archive is cut short inside entry ${name}: ${consumed} of its ${size} bytes`, offset)
        }
        consumed += c.length
        yield c
      }
    })()
    yield { name, size, offset, body }
    if (cut) return // the reader of the body was told
    // What the reader left of the entry, then the padding.
    const rest = size - consumed
    const skipped = await src.skip(rest)
    if (skipped < rest) throw new FormatError(`archive is cut short inside entry ${name}: ${consumed + skipped} of its ${size} bytes`, offset)
    // Data that ends in the padding still holds the whole entry.
    if ((await src.skip(padded - size)) < padded - size) return
  }
}

function ustarName(h: Buffer): string {
  const name = cString(h.subarray(0, 100))
  // POSIX ustar ("ustar\0") splits long paths into prefix/name; GNU's "ustar  " uses those bytes for other things.
  const posix = h.subarray(257, 263).equals(Buffer.from('ustar\0', 'latin1'))
  const prefix = posix ? cString(h.subarray(345, 500)) : ''
  return prefix !== '' ? `${prefix}/${name}` : name
}

function cString(b: Buffer): string {
  const z = b.indexOf(0)
  return b.subarray(0, z === -1 ? b.length : z).toString('utf8')
}

function parseOctal(b: Buffer): number | null {
  const s = b
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '')
  if (!/^[0-7]+$/.test(s)) return null
  return parseInt(s, 8)
}

function parseSize(b: Buffer, offset: number): number {
  if ((b[0] & 0x80) !== 0) {
    // GNU base-256 for sizes of 8 GiB and more.
    let n = 0
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]
    return n
  }
  const n = parseOctal(b)
  if (n === null) throw new FormatError('entry header with a size that is not a number', offset)
  return n
}

function headerChecksum(h: Buffer): number {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]
  return sum
}

/** pax records: "LEN key=value\n", LEN counting the whole record. */
function parsePax(data: Buffer, offset: number): Map<string, string> {
  const out = new Map<string, string>()
  let i = 0
  while (i < data.length) {
    const sp = data.indexOf(0x20, i)
    const len = sp === -1 ? NaN : Number(data.subarray(i, sp).toString('latin1'))
    if (!Number.isInteger(len) || len <= sp - i || i + len > data.length) {
      if (data.subarray(i).every(b => b === 0)) break
      throw new FormatError('a damaged pax extended header', offset)
    }
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8')
    const eq = rec.indexOf('=')
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1))
    i += len
  }
  return out
}
