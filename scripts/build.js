#!/usr/bin/env node
// `npm run build`: type-checks the whole tree and writes JavaScript to
// .build/ at the same relative paths (tsconfig.build.json), then links every
// other file the code reads beside it (migrations, scenarios, static files,
// lists, docs, test fixtures, package.json), so that the compiled modules
// find them where the TypeScript ones do, and takes out what no longer has
// a source. `npm test` runs the tests from there (.build/test). Last it
// writes .build/.stamp with the time the build started: scripts/blockwatch.js
// runs the compiled code only while no source file is newer than that, and
// the TypeScript otherwise.
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, '.build')
const SOURCES = ['probe', 'aggregator', 'shared', 'scripts', 'test']

const started = Date.now()
rmSync(join(OUT, '.stamp'), { force: true })
const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)

/** True when the folder holds a .ts file at any depth. */
function hasTs(dir) {
  return readdirSync(dir, { withFileTypes: true }).some(e => (e.isDirectory() ? hasTs(join(dir, e.name)) : e.name.endsWith('.ts')))
}

/** Links `src` (a file or a folder with no TypeScript) at the same place under .build. */
function link(src) {
  const dest = join(OUT, relative(ROOT, src))
  try {
    lstatSync(dest)
    return
  } catch {}
  mkdirSync(dirname(dest), { recursive: true })
  symlinkSync(relative(dirname(dest), src), dest)
}

function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue
    const path = join(dir, e.name)
    if (e.isDirectory()) {
      if (hasTs(path)) walk(path)
      else link(path)
    } else if (!e.name.endsWith('.ts')) link(path)
  }
}

/**
 * Takes out of .build what no longer has a source: a compiled module whose
 * .ts file was deleted or renamed (a test file left behind would still run)
 * and a link whose file is gone.
 */
function prune(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name)
    const src = join(ROOT, relative(OUT, path))
    if (e.isSymbolicLink()) {
      if (!existsSync(path)) rmSync(path)
    } else if (e.isDirectory()) prune(path)
    else if (e.name.endsWith('.js') && !existsSync(src) && !existsSync(src.slice(0, -3) + '.ts')) rmSync(path)
  }
}

for (const s of SOURCES) if (existsSync(join(ROOT, s))) walk(join(ROOT, s))
for (const s of SOURCES) if (existsSync(join(OUT, s))) prune(join(OUT, s))
link(join(ROOT, 'docs'))
link(join(ROOT, 'package.json'))
writeFileSync(join(OUT, '.stamp'), String(started))
