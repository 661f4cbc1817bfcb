/** `blockwatch probe status` (placeholder until its issue lands). */
export async function main (_argv: string[]): Promise<number> {
  process.stderr.write('blockwatch probe status: not available yet\n')
  return 1
}
