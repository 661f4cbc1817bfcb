/**
 * `blockwatch probe …`: routes to one module per subcommand under
 * probe/src/commands/. Only the command that runs is loaded.
 */
import { dispatch, type Subcommand } from '../../shared/src/args.ts'

const HELP = `blockwatch probe — measure censorship from this network

Usage: blockwatch probe <subcommand> [options]

Subcommands:
  run       measure a target list once and write the measurements
  init      write a probe config after explaining the risks and asking consent
  start     run target lists on a schedule and upload the results
  status    pending, uploaded, failed and dropped counts; the next run
  upload    upload the pending measurements now
  export    write the pending measurements to a file someone can carry out

Run \`blockwatch probe <subcommand> --help\` for its options.

Example:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`

const SUBCOMMANDS: Record<string, Subcommand> = {
  run: async () => await import('./commands/run.ts'),
  init: async () => await import('./commands/init.ts'),
  start: async () => await import('./commands/start.ts'),
  status: async () => await import('./commands/status.ts'),
  upload: async () => await import('./commands/upload.ts'),
  export: async () => await import('./commands/export.ts')
}

/** Runs `blockwatch probe …`. */
export async function main (argv: string[]): Promise<number> {
  return await dispatch(argv, SUBCOMMANDS, HELP, 'probe')
}
