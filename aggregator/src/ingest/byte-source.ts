/**
 * A pull reader over a stream of byte chunks, for the decoders of OONI's bulk
 * files (gzip members, LZ4 frames, tar entries): read exactly n bytes, give
 * back what was read too far, and know the offset reached. Only what the
 * decoder asks for is held, so a file of any size runs in constant memory.
 * Also the loop shared by the gzip and LZ4 decoders: unit after unit, and
 * on to the next unit after a damaged one.
 */

/** A damaged or cut-short input: `offset` is the byte (of the stream read) where it was found. */
export class FormatError extends Error {
  readonly code = 'AGG_ERR_BAD_FILE'
  readonly offset: number
  constructor(message: string, offset: number) {
    super(message)
    this.name = 'FormatError'
    this.offset = offset
  }
}

/** What a decoder yields instead of bytes when a part of its input cannot be read; the bytes after it follow. */
export interface Fault {
  fault: string
}

/** Tells a fault from a chunk of bytes. */
export function isFault(v: Buffer | Fault): v is Fault {
  return !Buffer.isBuffer(v)
}

/** Reads a stream of chunks on demand. */
export class ByteSource {
  readonly #it: AsyncIterator<Buffer>
  #pending: Buffer[] = []
  #done = false
  /** Bytes handed out so far (given-back bytes are not counted). */
  offset = 0

  constructor(chunks: AsyncIterable<Buffer>) {
    this.#it = chunks[Symbol.asyncIterator]()
  }

  /** The next bytes available (at most `max`), or null at the end. */
  async chunk(max = Infinity): Promise<Buffer | null> {
    let b = this.#pending.shift()
    if (b === undefined) {
      if (this.#done) return null
      const r = await this.#it.next()
      if (r.done === true) {
        this.#done = true
        return null
      }
      b = r.value
    }
    if (b.length > max) {
      this.#pending.unshift(b.subarray(max))
      b = b.subarray(0, max)
    }
    this.offset += b.length
    return b
  }

  /** Up to `n` bytes: fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = []
    let got = 0
    while (got < n) {
      const c = await this.chunk(n - got)
      if (c === null) break
      parts.push(c)
      got += c.length
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, got)
  }

  /** Exactly `n` bytes; a FormatError naming `what` when the stream ends first. */
  async readExactly(n: number, what: string): Promise<Buffer> {
    const at = this.offset
    const b = await this.read(n)
    if (b.length < n) throw new FormatError(`${what} is cut short: ${b.length} of ${n} bytes before the end of the data`, at)
    return b
  }

  /** Skips `n` bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let left = n
    while (left > 0) {
      const c = await this.chunk(left)
      if (c === null) break
      left -= c.length
    }
    return n - left
  }

  /** Gives back bytes read too far; the next read returns them first. */
  unread(b: Buffer): void {
    if (b.length === 0) return
    this.#pending.unshift(b)
    this.offset -= b.length
  }

  /** Stops the underlying stream (closes the file). */
  async close(): Promise<void> {
    this.#pending = []
    if (!this.#done) {
      this.#done = true
      await this.#it.return?.()
    }
  }

  /**
   * Skips to the next place where `magic` starts, at or after the current
   * offset; returns false (at the end) when there is none.
   */
  async seekTo(magic: Buffer): Promise<boolean> {
    let carry: Buffer = Buffer.alloc(0)
    for (;;) {
      const c = await this.chunk()
      if (c === null) return false
      const hay = carry.length > 0 ? Buffer.concat([carry, c]) : c
      const at = hay.indexOf(magic)
      if (at !== -1) {
        // Give back everything from the match on (carry was counted with its own chunk).
        this.unread(hay.subarray(at))
        return true
      }
      carry = hay.subarray(Math.max(0, hay.length - (magic.length - 1)))
    }
  }
}

/**
 * Decodes a stream made of units one after another (gzip members, LZ4
 * frames), each starting with `magic`: `decodeOne` reads the unit at the
 * offset it is given. A damaged unit becomes a Fault naming it and its
 * offset, and decoding goes on at the next place `magic` appears; a
 * candidate there that proves not to be a unit before giving any byte is
 * passed over quietly.
 */
export async function* decodeUnits(src: ByteSource, magic: Buffer, unitName: string, decodeOne: (at: number) => AsyncGenerator<Buffer>): AsyncGenerator<Buffer | Fault> {
  let searching = false
  for (;;) {
    const at = src.offset
    const probe = await src.read(1)
    if (probe.length === 0) return
    src.unread(probe)
    let produced = false
    try {
      for await (const b of decodeOne(at)) {
        produced = true
        yield b
      }
      searching = false
    } catch (err) {
      if (!(err instanceof FormatError)) throw err
      if (!searching || produced) yield { fault: `${unitName} at byte ${at}: ${err.message}${err.offset !== at ? ` (at byte ${err.offset})` : ''}` }
      searching = true
      if (src.offset <= at) await src.skip(at + 1 - src.offset)
      if (!(await src.seekTo(magic))) return
    }
  }
}
