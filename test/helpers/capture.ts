/** Runs a command's main() in this process with its stdout and stderr captured. */
export async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const ow = process.stdout.write.bind(process.stdout)
  const ew = process.stderr.write.bind(process.stderr)
  let out = ''
  let err = ''
  process.stdout.write = ((s: string) => {
    out += s
    return true
  }) as typeof process.stdout.write
  process.stderr.write = ((s: string) => {
    err += s
    return true
  }) as typeof process.stderr.write
  try {
    return { code: await fn(), out, err }
  } finally {
    process.stdout.write = ow
    process.stderr.write = ew
  }
}
