/**
 * `blockwatch aggregator export`: the file GET /api/v1/measurements/export
 * serves, written from the command line with the same filters as flags and
 * the same writer code (export/), so the bytes are the same. See docs/api.md
 * ("Exports").
 */
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { intFlag, parseFlags, runCommand, UsageError } from '../../../shared/src/args.ts'
import { AggError } from '../errors.ts'
import { EXPORT_FORMATS, openExport, type ExportFormat } from '../export/export.ts'
import { loadPseudonymSecret } from '../pseudonym.ts'
import { FILTER_PROPERTIES, parseFilters } from '../query/filters.ts'
import type { MeasurementFilters } from '../store/filters.ts'
import { serverConfig } from '../config.ts'
import { openForCommand } from './common.ts'

/** The filter parameters as flags: probe_cc becomes --probe-cc. */
const FILTER_FLAGS = Object.keys(FILTER_PROPERTIES).map(name => ({ name, flag: name.replace(/_/g, '-') }))

const HELP = `blockwatch aggregator export — write measurements as whole documents to a file

Usage: blockwatch aggregator export --format FORMAT --output FILE [filters] [--limit N]

Writes the same file as GET /api/v1/measurements/export: every stored
measurement the filters select, oldest first, with probe_id replaced by its
monthly pseudonym and probe_ip by 127.0.0.1.

  --format   jsonl (one OONI document a line), jsonl.gz, or parquet (typed
             envelope and verdict columns, the document as JSON)
  --output   the file to write; it appears only once complete
  --limit N  at most N rows
  --quiet    no summary line

Filters, as the API's (docs/api.md):
${FILTER_FLAGS.map(f => `  --${f.flag.padEnd(14)} ${String((FILTER_PROPERTIES as Record<string, { description?: string }>)[f.name].description ?? '')}`).join('\n')}

Environment: DATABASE_URL (unset: PGlite under --data-dir), PSEUDONYM_SECRET
(as the server's, for the same pseudonyms).

Examples:
  blockwatch aggregator export --format parquet --output ir.parquet --probe-cc IR --since 2024-01-01
  blockwatch aggregator export --format jsonl.gz --output dns.jsonl.gz --anomaly true --test-name web_connectivity
`

interface ValueSchema {
  pattern?: string
  enum?: readonly string[]
  minLength?: number
  maxLength?: number
  description?: string
}

/** Checks a filter flag's value against the API's schema for it; throws a UsageError naming the flag. */
function checkFilter(flag: string, value: string, schema: ValueSchema): void {
  const expected = schema.description !== undefined ? ` (${schema.description})` : ''
  const bad = (why: string): UsageError => new UsageError(`--${flag} ${why}, got ${JSON.stringify(value.slice(0, 80))}${expected}`)
  if (schema.enum !== undefined && !schema.enum.includes(value)) throw bad(`must be one of ${schema.enum.join(', ')}`)
  if (schema.minLength !== undefined && value.length < schema.minLength) throw bad('must not be empty')
  if (schema.maxLength !== undefined && value.length > schema.maxLength) throw bad(`takes at most ${schema.maxLength} characters`)
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) throw bad('is not in the accepted form')
}

/** Reads the filter flags into the API's typed filters, checked as the API checks them. */
function filtersFromFlags(values: Record<string, unknown>): MeasurementFilters {
  const filters: Record<string, string> = {}
  for (const { name, flag } of FILTER_FLAGS) {
    const v = values[flag]
    if (typeof v !== 'string') continue
    checkFilter(flag, v, (FILTER_PROPERTIES as Record<string, ValueSchema>)[name])
    filters[name] = v
  }
  try {
    return parseFilters(filters) // since/until: parsed and compared here, so their errors name the flag
  } catch (err) {
    if (err instanceof AggError) {
      const flag = err.field === undefined ? 'a filter' : `--${err.field.replace(/^query\./, '').replace(/_/g, '-')}`
      throw new UsageError(`${flag}: ${err.message.replace(/^[\w.]+: /, '')}`)
    }
    throw err
  }
}

/** Runs the export. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP)
      return 0
    }
    const filterOptions = Object.fromEntries(FILTER_FLAGS.map(f => [f.flag, { type: 'string' as const }]))
    const { values } = parseFlags(argv, {
      ...filterOptions,
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      limit: { type: 'string' },
      quiet: { type: 'boolean' },
      'data-dir': { type: 'string' }
    })
    const format = values.format
    if (format === undefined || !Object.hasOwn(EXPORT_FORMATS, format)) {
      throw new UsageError(`--format must be one of ${Object.keys(EXPORT_FORMATS).join(', ')}${format === undefined ? '' : `, got ${JSON.stringify(format)}`}`)
    }
    const output = values.output
    if (output === undefined || output === '') throw new UsageError(`--output FILE is needed: the file to write, e.g. --output ${EXPORT_FORMATS[format as ExportFormat].filename}`)
    const limit = values.limit === undefined ? undefined : intFlag('limit', values.limit, 0, 1, 100_000_000)
    const filters = filtersFromFlags(values)
    const cfg = serverConfig({ 'data-dir': values['data-dir'] }, process.env)
    const { db } = await openForCommand(cfg)
    const partial = `${output}.partial`
    let rows = 0
    try {
      const secret = cfg.pseudonymSecret !== '' ? cfg.pseudonymSecret : await loadPseudonymSecret(db)
      const stream = await openExport(db, {
        format: format as ExportFormat,
        filters,
        limit,
        secret,
        onChunk: n => {
          rows += n
        }
      })
      await pipeline(stream, createWriteStream(partial))
      await rename(partial, output)
    } catch (err) {
      await rm(partial, { force: true })
      throw err
    } finally {
      await db.close()
    }
    if (values.quiet !== true) process.stdout.write(`export: ${rows} measurements written to ${output} (${format})\n`)
    return 0
  })
}
