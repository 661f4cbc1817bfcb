/** `blockwatch aggregator import FILE`: import a file written by `blockwatch probe export`. */
import { runImport } from './import-run.ts'

const HELP = `blockwatch aggregator import — import a probe's export file

Usage: blockwatch aggregator import FILE [FILE…] [--quiet]

Reads the JSONL file \`blockwatch probe export\` writes (gzip or not) and
stores its measurements with the same validation, scoring and deduplication
as POST /api/v1/measurements: measurements already uploaded are counted as
duplicates, never stored twice. For a probe whose network cannot reach the
aggregator: carry the file over and import it here.

Example:
  blockwatch aggregator import ./blockwatch-export-2024-05-01.jsonl.gz
`

/** Runs the import. */
export async function main(argv: string[]): Promise<number> {
  return await runImport(argv, HELP, 'import')
}
