import type { BenchContext, BenchResult } from './context.ts'
export async function runTimelines (_ctx: BenchContext, _o: { timelines: boolean, events: boolean }): Promise<BenchResult[]> { throw new Error('not yet') }
