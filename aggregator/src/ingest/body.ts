/**
 * Reading an upload: a JSON array, or NDJSON (one document a line). A line
 * that is not JSON spoils only itself; an array that is not JSON is refused
 * whole, since nothing in it can be told apart.
 */
import { badRequest } from '../errors.ts'

/** One item of a batch: a parsed document, or why its line could not be read. */
export type BatchItem = { doc: unknown } | { parseError: string }

/** Parses a request body into batch items. Throws a 400 naming `body` when it is neither form. */
export function parseBatch(text: string): BatchItem[] {
  const start = text.search(/\S/)
  if (start === -1) throw badRequest('body', 'empty; send a JSON array of measurements or NDJSON, one measurement a line')
  if (text[start] === '[') {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw badRequest('body', `not valid JSON (${(err as Error).message}); send a JSON array of measurements or NDJSON, one measurement a line`)
    }
    if (!Array.isArray(parsed)) throw badRequest('body', 'a JSON array of measurements was expected')
    return parsed.map(doc => ({ doc }))
  }
  const items: BatchItem[] = []
  let line = 0
  for (const raw of text.split('\n')) {
    line++
    const s = raw.trim()
    if (s === '') continue
    try {
      items.push({ doc: JSON.parse(s) })
    } catch (err) {
      items.push({ parseError: `line ${line}: not valid JSON (${(err as Error).message})` })
    }
  }
  return items
}
