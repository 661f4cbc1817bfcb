import type { BenchContext, BenchResult } from './context.ts'
export async function runProbe (_ctx: BenchContext): Promise<BenchResult> { throw new Error('not yet') }
