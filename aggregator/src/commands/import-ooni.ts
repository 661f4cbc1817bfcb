/** `blockwatch aggregator import-ooni FILE…`: import measurements in every layout OONI has published (docs/api.md, "Importing files"). */
import { runImport } from './import-run.ts'

const HELP = `blockwatch aggregator import-ooni — import OONI's measurement files as OONI publishes them

Usage: blockwatch aggregator import-ooni FILE [FILE…] [--quiet] [--data-dir DIR]

Reads, told by their bytes and not their names:
  JSONL              one measurement a line: OONI's jsonl/ and raw/ files (.jsonl, .jsonl.gz)
  postcans           raw/YYYYMMDD/HH/CC/TEST/*.tar.gz: a tar of .post files, one probe
                     upload each ({"format": "json", "content": …}); gzip or not
  autoclaved (LZ4)   2017-2020: .json.lz4 (JSONL) and .tar.lz4 cans (a tar of JSONL
                     reports), as concatenated LZ4 frames
  JSON               one document, or an array of them
Gzip files of several members and LZ4 files of several frames are read
through. YAML reports (before 2016) are refused.

Each measurement is scored as OONI's pipeline does and stored with the same
deduplication as uploads: one without a measurement_uid gets one from its
content, so importing a file twice, or a postcan and the .jsonl.gz of the
same hour, stores nothing twice. A damaged part (a corrupt gzip member or
LZ4 frame, a cut-short archive, a line or post that is not JSON) is named
with its file and line or entry on stderr, and the documents beside it are
still imported. Every file ends with a line on stdout:

  FILE (FORMAT): N accepted, N duplicates, N rejected[, N unreadable parts]

and a progress bar runs on stderr (--quiet: none). Exit code 1 when a part
could not be read or nothing could be imported.

Environment: DATABASE_URL (unset: PGlite under --data-dir), FINGERPRINTS_DIR
(OONI's blocking-fingerprints folder, when no list was uploaded).

Examples:
  blockwatch aggregator import-ooni 2021081711_GB_webconnectivity.n0.0.tar.gz
  FINGERPRINTS_DIR=./blocking-fingerprints blockwatch aggregator import-ooni raw/20210817/*/IR/*/*.jsonl.gz
  blockwatch aggregator import-ooni 2017-06-01/web_connectivity.00.tar.lz4
`

/** Runs the import. */
export async function main(argv: string[]): Promise<number> {
  return await runImport(argv, HELP, 'import-ooni')
}
