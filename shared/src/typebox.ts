/**
 * TypeBox's `Type` builder and `TypeCompiler`, taken from its CommonJS build
 * through require(). To Node's ESM loader that build is one module, where
 * the ESM build is 219 small ones, and each module loaded through ESM pays
 * for every loader hook in the process: tsx when the sources run without a
 * build, tap's processinfo in every test process (about 0.5 s of CPU a
 * process here). The API and the types are the package's own; import the
 * types from '@sinclair/typebox' as usual.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export const { Type } = require('@sinclair/typebox') as typeof import('@sinclair/typebox')
export const { TypeCompiler } = require('@sinclair/typebox/compiler') as typeof import('@sinclair/typebox/compiler')
