/** `blockwatch aggregator import` (placeholder until its issue lands). */
export async function main (_argv: string[]): Promise<number> {
  process.stderr.write('blockwatch aggregator import: not available yet\n')
  return 1
}
