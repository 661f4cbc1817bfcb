/** `blockwatch probe run` (placeholder until its issue lands). */
export async function main (_argv: string[]): Promise<number> {
  process.stderr.write('blockwatch probe run: not available yet\n')
  return 1
}
