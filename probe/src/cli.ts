/**
 * `blockwatch probe …`: the probe's subcommands (placeholder until the probe
 * engine lands).
 */
export async function main (argv: string[]): Promise<number> {
  process.stdout.write('blockwatch probe — measure censorship from this network\n\nExample:\n  blockwatch probe run --targets list.csv\n')
  return argv.length === 0 ? 2 : 0
}
