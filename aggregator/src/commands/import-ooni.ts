/** `blockwatch aggregator import-ooni FILE.jsonl[.gz]`: import measurements in the format OONI publishes. */
import { runImport } from './import-run.ts'

const HELP = `blockwatch aggregator import-ooni — import measurements in the format OONI publishes

Usage: blockwatch aggregator import-ooni FILE.jsonl[.gz] [FILE…] [--quiet]

Reads JSONL (one measurement a line, gzip or not; a single JSON document or
array also works), scores each measurement as OONI's pipeline does and stores
it with the same deduplication as uploads: documents without a
measurement_uid get one derived from their content, so importing a file
twice stores nothing twice. Shows a progress bar on stderr.

Environment: DATABASE_URL (unset: PGlite under --data-dir), FINGERPRINTS_DIR
(OONI's blocking-fingerprints folder, when no list was uploaded).

Example:
  FINGERPRINTS_DIR=./blocking-fingerprints blockwatch aggregator import-ooni 2024-01-01_IR_webconnectivity.jsonl.gz
`

/** Runs the import. */
export async function main (argv: string[]): Promise<number> {
  return await runImport(argv, HELP, 'import-ooni')
}
