/** Paths to the reference data beside the repository (../shared/data). */
import { fileURLToPath } from 'node:url'

export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url))
export const OONI_SAMPLES = SHARED_DATA + 'ooni-measurements/'
export const TEST_LISTS = SHARED_DATA + 'test-lists/'
export const FINGERPRINTS = SHARED_DATA + 'blocking-fingerprints/'
