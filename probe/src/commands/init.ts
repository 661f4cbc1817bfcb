/** `blockwatch probe init` (placeholder until its issue lands). */
export async function main (_argv: string[]): Promise<number> {
  process.stderr.write('blockwatch probe init: not available yet\n')
  return 1
}
