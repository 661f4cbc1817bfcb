/**
 * Body similarity by content, not by length: a bottom-k sketch of a page's
 * word shingles (four consecutive words), the k smallest of their hashes,
 * from which the Jaccard similarity of two pages' shingle sets is estimated
 * (Broder, "On the resemblance and containment of documents", 1997; Cohen
 * and Kaplan, "Summarizing data using bottom-k sketches", 2007). One hash
 * per shingle: a 128 KiB page costs a few milliseconds, which ingest can
 * afford for every document.
 *
 * The control vantage sends the sketch of its page (`x_body_sketch`, a few
 * hundred characters instead of the body); the verdict sketches the probe's
 * body, which the document holds, and compares. Pure: no I/O.
 */

/** Words per shingle. */
export const SHINGLE_WORDS = 4
/** A body with fewer words has no sketch: one changed word (a date) would change most of its few shingles. Compared by length instead. */
export const SKETCH_MIN_WORDS = 16
/** Hashes kept in a sketch: the estimate's standard error is at most 1/(2√64) ≈ 0.06. */
export const SKETCH_SIZE = 64
/** Characters of a body that are sketched: enough for any page's character, bounded in cost (both sides cut alike). */
export const SKETCH_CHARS = 128 * 1024
/** The prefix naming the sketch's method, so that a later method is never compared with this one. */
export const SKETCH_METHOD = 'bottomk-w4-64:'

/**
 * The words of a page: markup included (tag and attribute names are part of
 * what makes a blockpage look unlike the site), lower case, letters and
 * digits of any script.
 */
export function wordsOf(body: string): string[] {
  return body
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(w => w !== '')
}

/** FNV-1a, 32 bits, over a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** murmur3's 32-bit finaliser: spreads a combined hash over all bits. */
function mix(h: number): number {
  let x = h >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

/**
 * The sketch of a body: the SKETCH_SIZE smallest distinct hashes of its
 * shingles, ascending, as hexadecimal after SKETCH_METHOD. Null for a body
 * of fewer than SKETCH_MIN_WORDS words.
 */
export function bodySketch(body: string): string | null {
  const words = wordsOf(body.slice(0, SKETCH_CHARS))
  if (words.length < SKETCH_MIN_WORDS) return null
  const wordHashes = words.map(fnv1a)
  const hashes = new Uint32Array(words.length - SHINGLE_WORDS + 1)
  for (let i = 0; i < hashes.length; i++) {
    let h = 0
    for (let j = 0; j < SHINGLE_WORDS; j++) h = mix((Math.imul(h, 0x9e3779b1) ^ wordHashes[i + j]) >>> 0)
    hashes[i] = h
  }
  hashes.sort()
  const kept: number[] = []
  for (let i = 0; i < hashes.length && kept.length < SKETCH_SIZE; i++) if (i === 0 || hashes[i] !== hashes[i - 1]) kept.push(hashes[i])
  return SKETCH_METHOD + kept.map(v => v.toString(16).padStart(8, '0')).join('')
}

/** The hashes of a sketch of this method, or null. */
function parseSketch(s: string | null): Set<number> | null {
  if (s === null || !s.startsWith(SKETCH_METHOD)) return null
  const hex = s.slice(SKETCH_METHOD.length)
  if (hex.length === 0 || hex.length % 8 !== 0 || hex.length > SKETCH_SIZE * 8 || !/^[0-9a-f]+$/.test(hex)) return null
  const out = new Set<number>()
  for (let i = 0; i < hex.length; i += 8) out.add(parseInt(hex.slice(i, i + 8), 16))
  return out
}

/**
 * The estimated Jaccard similarity of two sketches, from 0 (no shingle in
 * common) to 1 (the same shingles): among the SKETCH_SIZE smallest hashes
 * of both, the share found in both. Exact when both pages have fewer
 * shingles than that. Null when either is missing or not a sketch of this
 * method.
 */
export function sketchSimilarity(a: string | null, b: string | null): number | null {
  const x = parseSketch(a)
  const y = parseSketch(b)
  if (x === null || y === null) return null
  const smallest = [...new Set([...x, ...y])].sort((p, q) => p - q).slice(0, SKETCH_SIZE)
  const both = smallest.filter(h => x.has(h) && y.has(h)).length
  return both / smallest.length
}
