/** The software_name and software_version written into every measurement. */
import { readFileSync } from 'node:fs'

export const SOFTWARE_NAME = 'blockwatch'
export const SOFTWARE_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
