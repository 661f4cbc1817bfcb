/** `blockwatch probe start` (placeholder until its issue lands). */
export async function main (_argv: string[]): Promise<number> {
  process.stderr.write('blockwatch probe start: not available yet\n')
  return 1
}
