/** `blockwatch aggregator rescore` (placeholder until its issue lands). */
export async function main (_argv: string[]): Promise<number> {
  process.stderr.write('blockwatch aggregator rescore: not available yet\n')
  return 1
}
