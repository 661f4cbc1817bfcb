/**
 * `blockwatch aggregator …`: routes to one module per subcommand under
 * aggregator/src/commands/.
 */
import { dispatch, type Subcommand } from '../../shared/src/args.ts'

const HELP = `blockwatch aggregator — collect measurements and serve the researcher API

Usage: blockwatch aggregator <subcommand> [options]

Subcommands:
  serve        run the HTTP server (ingest, researcher API, control vantage)
  migrate      apply pending database migrations and exit
  rescore      re-score every stored measurement (after a fingerprint update)
  import-ooni  import measurements in the format OONI publishes (JSONL, .gz)
  import       import a file written by \`blockwatch probe export\`
  export       write measurements as whole documents (JSONL, JSONL.gz, Parquet)
  archive      move whole months to Parquet files (retention), keeping rollups and events

Environment: DATABASE_URL (postgres://…; unset or empty: PGlite under ./data),
PORT, HOST, CONTROL_ALLOW, PUBLIC_URL.

Run \`blockwatch aggregator <subcommand> --help\` for its options.

Example:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/blockwatch blockwatch aggregator serve --port 8080
`

const SUBCOMMANDS: Record<string, Subcommand> = {
  serve: async () => await import('./commands/serve.ts'),
  migrate: async () => await import('./commands/migrate.ts'),
  rescore: async () => await import('./commands/rescore.ts'),
  'import-ooni': async () => await import('./commands/import-ooni.ts'),
  import: async () => await import('./commands/import.ts'),
  export: async () => await import('./commands/export.ts'),
  archive: async () => await import('./commands/archive.ts')
}

/** Runs `blockwatch aggregator …`. */
export async function main(argv: string[]): Promise<number> {
  return await dispatch(argv, SUBCOMMANDS, HELP, 'aggregator')
}
