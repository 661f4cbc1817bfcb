/**
 * Paths the tests read or run: the repository's root, and the reference data
 * beside the repository (../shared/data). `npm test` runs the tests compiled
 * into .build/test/, so a path is never taken relative to a test's own
 * module: it is taken from REPO_ROOT, which is the same from both places.
 */
import { join } from 'node:path'
import { REPO_ROOT } from '../../scripts/repo-root.ts'

/** The repository's root, with a trailing slash, whether the tests run from test/ or from .build/test/. */
export { REPO_ROOT }
/** `scripts/blockwatch.js`, the command the tests run as processes. */
export const BLOCKWATCH_BIN = join(REPO_ROOT, 'scripts/blockwatch.js')

export const SHARED_DATA = join(REPO_ROOT, '../shared/data/')
export const OONI_SAMPLES = SHARED_DATA + 'ooni-measurements/'
export const TEST_LISTS = SHARED_DATA + 'test-lists/'
export const FINGERPRINTS = SHARED_DATA + 'blocking-fingerprints/'
