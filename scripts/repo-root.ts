/**
 * The repository's root, for the code that reads or runs files by their place
 * in the repository (the lab, the tests): the same whether this module runs
 * from the sources (through tsx) or as tsc compiled it into .build/scripts/.
 */
import { fileURLToPath } from 'node:url'

const above = fileURLToPath(new URL('../', import.meta.url))
/** The repository's root, with a trailing slash. */
export const REPO_ROOT = above.endsWith('/.build/') ? above.slice(0, -'.build/'.length) : above
