/**
 * TypeBox's `Type` builder and `TypeCompiler`, taken from its CommonJS build
 * through require(), and only when first used. To Node's ESM loader that
 * build is one module, where the ESM build is 219 small ones, and each
 * module loaded through ESM pays for every loader hook in the process: tsx
 * when the sources run without a build, tap's processinfo in every test
 * process (about 0.5 s of CPU a process here). The API and the types are the
 * package's own; import the types from '@sinclair/typebox' as usual.
 *
 * The schemas of the measurement model and of the nettest kinds are built
 * by `lazy()` on first use, so a process that loads those modules but never
 * validates (the probe: only the aggregator checks documents against them)
 * never loads TypeBox: about 9 MB of memory and 0.4-0.6 s of CPU at each
 * run's start (docs/benchmarks.md, "Probe footprint").
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

type TypeBox = typeof import('@sinclair/typebox')
type Compiler = typeof import('@sinclair/typebox/compiler')

/** An object whose properties are the loaded module's, the module loaded at the first property read. */
function onFirstUse<T extends object>(load: () => T): T {
  let real: T | undefined
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get((real ??= load()), key),
    has: (_, key) => Reflect.has((real ??= load()), key)
  })
}

export const Type: TypeBox['Type'] = onFirstUse(() => (require('@sinclair/typebox') as TypeBox).Type)
export const TypeCompiler: Compiler['TypeCompiler'] = onFirstUse(() => (require('@sinclair/typebox/compiler') as Compiler).TypeCompiler)

/** A value (a schema) built by its first call and kept: a module can declare schemas without building them when it loads. */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined
  return () => (value ??= build())
}
