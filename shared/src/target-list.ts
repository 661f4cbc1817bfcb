/**
 * Citizen Lab test lists (github.com/citizenlab/test-lists), read as they are:
 * `url,category_code,category_description,date_added,source,notes`.
 * Non-web targets use the same columns with other URL schemes (dns://,
 * tcp://, tls://, smpp://, smsapi+https://). A bad row yields an error that
 * names the file, the line and the column; the good rows still load.
 */
import { createReadStream } from 'node:fs'
import { readCsv } from './csv.ts'
import { domainOf, schemeNeedsPort, targetSchemes, testNameFor } from './target.ts'

export const TARGET_LIST_COLUMNS = ['url', 'category_code', 'category_description', 'date_added', 'source', 'notes'] as const

/** One row of a target list. */
export interface Target {
  /** The row's URL, verbatim: it becomes the measurement's `input`. */
  url: string
  category_code: string
  category_description: string
  date_added: string
  source: string
  notes: string
  /** The host name of `url`. */
  domain: string
  /** The test that measures this target. */
  test_name: string
}

/** A row that could not be read. */
export interface TargetListError {
  file: string
  line: number
  column: string
  message: string
}

export type TargetListItem = { target: Target; error?: undefined } | { target?: undefined; error: TargetListError }

/** Formats a target-list error for a person: "ir.csv:12: column url: …". */
export function formatTargetListError(e: TargetListError): string {
  return `${e.file}:${e.line}: column ${e.column}: ${e.message}`
}

/**
 * Reads a target list, yielding each row as a target or as an error.
 * `source` is CSV text or a stream of chunks; `file` names it in errors.
 */
export async function* readTargetList(source: string | AsyncIterable<string | Buffer>, file: string): AsyncGenerator<TargetListItem> {
  let header: string[] | undefined
  for await (const rec of readCsv(source, { multiline: false })) {
    if (rec.fields.length === 1 && rec.fields[0].trim() === '') continue
    const err = (column: string, message: string): TargetListItem => ({ error: { file, line: rec.line, column, message } })
    if (header === undefined) {
      header = rec.fields.map(f => f.trim().replace(/^\uFEFF/, ''))
      if (header[0] !== 'url' || header[1] !== 'category_code') {
        yield err('url', `the header must start with "url,category_code", got ${JSON.stringify(rec.fields.join(',').slice(0, 80))}; use the Citizen Lab columns ${TARGET_LIST_COLUMNS.join(',')}`)
        return
      }
      continue
    }
    if (rec.error !== undefined) {
      yield err('url', rec.error)
      continue
    }
    const get = (name: string): string => {
      const i = header!.indexOf(name)
      return i >= 0 ? (rec.fields[i] ?? '').trim() : ''
    }
    if (rec.fields.length < 2) {
      yield err('category_code', `expected ${header.length} columns, got ${rec.fields.length}`)
      continue
    }
    const url = get('url')
    const checked = checkTargetUrl(url)
    if (typeof checked === 'string') {
      yield err('url', checked)
      continue
    }
    const category = get('category_code')
    if (!/^[A-Z0-9_]{2,16}$/.test(category)) {
      yield err('category_code', `must be a code such as NEWS or GRP, got ${JSON.stringify(category)}`)
      continue
    }
    const date = get('date_added')
    if (date !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      yield err('date_added', `must be a date as YYYY-MM-DD, got ${JSON.stringify(date)}`)
      continue
    }
    yield {
      target: {
        url,
        category_code: category,
        category_description: get('category_description'),
        date_added: date,
        source: get('source'),
        notes: get('notes'),
        domain: checked.domain,
        test_name: checked.test_name
      }
    }
  }
}

/** Checks a target URL: returns its domain and test, or a message that says what is wrong. */
export function checkTargetUrl(url: string): { domain: string; test_name: string } | string {
  if (url === '') return 'is empty; every row needs a URL'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `${JSON.stringify(url.slice(0, 100))} is not a URL`
  }
  const test = testNameFor(parsed.href)
  if (test === null) return `scheme ${JSON.stringify(parsed.protocol)} is not supported; use one of ${targetSchemes().join(' ')}`
  const domain = domainOf(url)
  if (domain === null) return `${JSON.stringify(url.slice(0, 100))} has no host name`
  if (schemeNeedsPort(parsed.protocol) && parsed.port === '') return `${JSON.stringify(url)} needs a port, as in ${parsed.protocol}//${domain}:443`
  return { domain, test_name: test }
}

/** Reads a target-list file from disk, streaming. */
export function readTargetListFile(path: string): AsyncGenerator<TargetListItem> {
  return readTargetList(createReadStream(path, { encoding: 'utf8' }), path)
}

/** Reads a whole list into memory: for small lists (tests, the default lists). */
export async function loadTargetList(source: string, file: string): Promise<{ targets: Target[]; errors: TargetListError[] }> {
  const targets: Target[] = []
  const errors: TargetListError[] = []
  for await (const item of readTargetList(source, file)) {
    if (item.error !== undefined) errors.push(item.error)
    else targets.push(item.target)
  }
  return { targets, errors }
}
