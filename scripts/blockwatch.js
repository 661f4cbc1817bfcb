#!/usr/bin/env node
// The `blockwatch` command: hands the arguments to the side they name. Each
// side is loaded on demand, so a probe never loads the aggregator's modules
// (fastify, PGlite).
//
// It runs the JavaScript that `npm run build` wrote to .build/ while that
// build is newer than every TypeScript source file (a stat of each, a few
// milliseconds), and otherwise the TypeScript itself through tsx, which
// costs about twice the CPU to start. So an edited file always runs as
// edited.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The newest mtime (ms) of a .ts file under dir, or 0. */
function newest(dir) {
  let max = 0
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue
    const path = join(dir, e.name)
    if (e.isDirectory()) max = Math.max(max, newest(path))
    else if (e.name.endsWith('.ts')) max = Math.max(max, statSync(path).mtimeMs)
  }
  return max
}

function builtAndFresh() {
  if (process.env.BLOCKWATCH_TSX === '1') return false
  let stamp
  try {
    stamp = Number(readFileSync(join(ROOT, '.build', '.stamp'), 'utf8'))
  } catch {
    return false
  }
  return ['probe', 'aggregator', 'shared', 'scripts'].every(d => newest(join(ROOT, d)) < stamp)
}

let main
if (builtAndFresh()) {
  ;({ main } = await import('../.build/scripts/cli.js'))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('./cli.ts'))
}
process.exitCode = await main(process.argv.slice(2))
