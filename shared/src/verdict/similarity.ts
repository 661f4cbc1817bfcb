/**
 * Body similarity by content, not by length: a MinHash sketch of a page's
 * word shingles (four consecutive words), whose agreement estimates the
 * Jaccard similarity of two pages' shingle sets (Broder, "On the
 * resemblance and containment of documents", 1997).
 *
 * The control vantage sends the sketch of its page (`x_body_sketch`, a few
 * hundred characters instead of the body); the verdict sketches the probe's
 * body, which the document holds, and compares. Pure: no I/O.
 */

/** Words per shingle. */
export const SHINGLE_WORDS = 4
/** A body with fewer words has no sketch: one changed word (a date) would change most of its few shingles. Compared by length instead. */
export const SKETCH_MIN_WORDS = 16
/** Hash functions in a sketch: the estimate's standard error is about 1/√64 ≈ 0.06. */
export const SKETCH_SIZE = 64
/** Characters of a body that are sketched: enough for any page's character, bounded in cost (both sides cut alike). */
export const SKETCH_CHARS = 128 * 1024
/** The prefix naming the sketch's method, so that a later method is never compared with this one. */
export const SKETCH_METHOD = 'minhash-w4-64:'

/**
 * The words of a page: markup included (tag and attribute names are part of
 * what makes a blockpage look unlike the site), lower case, letters and
 * digits of any script.
 */
export function wordsOf (body: string): string[] {
  return body.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(w => w !== '')
}

/** FNV-1a, 32 bits, over a string's UTF-16 code units. */
function fnv1a (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A 32-bit finaliser (murmur3's fmix32): one independent-looking hash per seed. */
function mix (h: number, seed: number): number {
  let x = (h ^ Math.imul(seed, 0x9e3779b1)) >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

/**
 * The sketch of a body: SKETCH_SIZE minimum hashes of its shingles, as
 * hexadecimal after SKETCH_METHOD. Null for a body of fewer than
 * SKETCH_MIN_WORDS words.
 */
export function bodySketch (body: string): string | null {
  const words = wordsOf(body.slice(0, SKETCH_CHARS))
  if (words.length < SKETCH_MIN_WORDS) return null
  const mins = new Array<number>(SKETCH_SIZE).fill(0xffffffff)
  const last = Math.max(0, words.length - SHINGLE_WORDS)
  for (let i = 0; i <= last; i++) {
    const h = fnv1a(words.slice(i, i + SHINGLE_WORDS).join(' '))
    for (let k = 0; k < SKETCH_SIZE; k++) {
      const v = mix(h, k + 1)
      if (v < mins[k]) mins[k] = v
    }
  }
  return SKETCH_METHOD + mins.map(v => v.toString(16).padStart(8, '0')).join('')
}

/**
 * The estimated Jaccard similarity of two sketches, from 0 (no shingle in
 * common) to 1 (the same shingles). Null when either is missing or not a
 * sketch of this method.
 */
export function sketchSimilarity (a: string | null, b: string | null): number | null {
  const parse = (s: string | null): string | null => {
    if (s === null || !s.startsWith(SKETCH_METHOD)) return null
    const hex = s.slice(SKETCH_METHOD.length)
    return hex.length === SKETCH_SIZE * 8 && /^[0-9a-f]+$/.test(hex) ? hex : null
  }
  const x = parse(a)
  const y = parse(b)
  if (x === null || y === null) return null
  let same = 0
  for (let k = 0; k < SKETCH_SIZE; k++) if (x.slice(k * 8, k * 8 + 8) === y.slice(k * 8, k * 8 + 8)) same++
  return same / SKETCH_SIZE
}
