/**
 * The top of the `blockwatch` command: dispatches to the probe, the
 * aggregator, the lab, the simulator and the benchmarks. This file only
 * routes; each side parses its own flags.
 */
import { dispatch, type Subcommand } from '../shared/src/args.ts'

const HELP = `blockwatch — a network-censorship observatory

Usage: blockwatch <command> [options]

Commands:
  probe        run censorship measurements from this network (volunteers)
  aggregator   collect measurements, serve the researcher API and timelines
  simulate     post a scripted scenario of measurements to an aggregator
  lab          a censorship lab of network namespaces on this machine (root)
  dev          what \`npm start\` runs: an aggregator on embedded PostgreSQL
               with a local probe reporting into it
  bench        run the benchmarks (writes docs/benchmarks.md)

Run \`blockwatch <command> --help\` for a command's options.

Example:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --output out.jsonl
`

const COMMANDS: Record<string, Subcommand> = {
  probe: async () => await import('../probe/src/cli.ts'),
  aggregator: async () => await import('../aggregator/src/cli.ts'),
  simulate: async () => await import('../aggregator/src/simulate/cli.ts'),
  dev: async () => await import('../aggregator/src/dev.ts'),
  lab: async () => await import('./lab/cli.ts'),
  bench: async () => await import('./bench/cli.ts')
}

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') {
    const { SOFTWARE_VERSION } = await import('../shared/src/software.ts')
    process.stdout.write(SOFTWARE_VERSION + '\n')
    return 0
  }
  return await dispatch(argv, COMMANDS, HELP, '')
}
