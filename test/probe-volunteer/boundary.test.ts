// The probe never loads aggregator-only modules (fastify, PGlite, pg): walk
// the static import graph from the probe's entry points and check that no
// file of aggregator/ and none of those packages is reachable.
import t from 'tap'
import { readFileSync, existsSync } from 'node:fs'
import { dirname, resolve, relative } from 'node:path'
import { REPO_ROOT } from '../helpers/paths.ts'

const ROOT = REPO_ROOT
const ENTRIES = [
  'probe/src/cli.ts',
  'probe/src/commands/init.ts',
  'probe/src/commands/start.ts',
  'probe/src/commands/status.ts',
  'probe/src/commands/upload.ts',
  'probe/src/commands/export.ts',
  'probe/src/engine.ts',
  'probe/src/schedule.ts'
]
const FORBIDDEN = /^(fastify|@fastify\/|@electric-sql\/pglite|pg$|pg\/|prom-client|maxmind|@ip-location-db\/)/

t.test('no aggregator module is reachable from the probe', async t => {
  const seen = new Set<string>()
  const bad: string[] = []
  const visit = (file: string, from: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const rel = relative(ROOT, file)
    if (rel.startsWith('aggregator/')) {
      bad.push(`${rel} (imported by ${from})`)
      return
    }
    const text = readFileSync(file, 'utf8')
    // Static and dynamic imports, but not `import type` (erased at run time).
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec)
        if (existsSync(target)) visit(target, rel)
      } else if (FORBIDDEN.test(spec)) {
        bad.push(`${spec} (imported by ${rel})`)
      }
    }
  }
  for (const e of ENTRIES) visit(resolve(ROOT, e), 'entry')
  t.ok(seen.size > 10, `walked ${seen.size} files`)
  t.same(bad, [], 'no aggregator-only module')
})
