/**
 * The timeline tables' SQL now lives in the store (store/timeline.ts); this
 * module keeps the old import path working for the event job, the tests and
 * the benchmarks.
 */
export * from '../store/timeline.ts'
