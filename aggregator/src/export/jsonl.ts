/**
 * Exports as JSON Lines: one whole scrubbed OONI document a line, the format
 * OONI publishes its measurements in (its jsonl/ files), so that the same
 * tools read both. `.jsonl.gz` is this text through node:zlib (export.ts).
 */
import type { ExportRow } from '../store/export.ts'
import { scrubbedDocument } from './document.ts'

/** Turns chunks of rows into text, one chunk of lines at a time, pulling a chunk only when its reader wants more. */
export async function* jsonlText(chunks: AsyncIterable<ExportRow[]>, secret: string): AsyncGenerator<string> {
  for await (const chunk of chunks) {
    let out = ''
    for (const r of chunk) out += scrubbedDocument(r, secret) + '\n'
    if (out !== '') yield out
  }
}
