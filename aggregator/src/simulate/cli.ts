/** Placeholder: this command is being built (see the open issues). */
export async function main (_argv: string[]): Promise<number> {
  process.stderr.write('blockwatch: this command is not available yet\n')
  return 1
}
