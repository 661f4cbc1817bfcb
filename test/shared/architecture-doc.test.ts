// docs/architecture.md's "Where things live" tables against the tree:
// every folder under probe/src, aggregator/src, shared/src, scripts and test
// must be named there, and every folder the file names under those roots
// must exist (issue 16).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { REPO_ROOT } from '../helpers/paths.ts'

const REPO = REPO_ROOT

const ROOTS = ['probe/src', 'aggregator/src', 'shared/src', 'scripts', 'test']
const DOC = 'docs/architecture.md'

/** The folders under a root, the root included, as `root/a/b/` (hidden folders and node_modules left out). */
function foldersUnder(root: string): string[] {
  const out = [`${root}/`]
  for (const e of readdirSync(join(REPO, root), { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'node_modules') continue
    out.push(...foldersUnder(`${root}/${e.name}`))
  }
  return out
}

/** The folder paths the doc names in its tables: a backquoted first cell ending in `/` under one of the roots. */
function foldersInDoc(text: string): Map<string, number> {
  const named = new Map<string, number>()
  text.split('\n').forEach((line, i) => {
    const m = /^\|\s*`([^`]+\/)`/.exec(line)
    if (m !== null && ROOTS.some(r => m[1] === `${r}/` || m[1].startsWith(`${r}/`))) named.set(m[1], i + 1)
  })
  return named
}

t.test('every folder of the tree is in the doc, and the doc names no folder that is gone', async t => {
  const real = ROOTS.flatMap(foldersUnder).sort()
  const named = foldersInDoc(readFileSync(join(REPO, DOC), 'utf8'))
  t.ok(real.length > 40, `the tree has its folders (${real.length})`)
  const missing = real.filter(f => !named.has(f))
  t.same(missing, [], `folders missing from ${DOC}'s "Where things live" tables: add a row for each`)
  const gone = [...named].filter(([f]) => !real.includes(f)).map(([f, line]) => `${f} (line ${line})`)
  t.same(gone, [], `${DOC} names folders that do not exist: remove or rename their rows`)
})

t.test('the doc parser finds a row and ignores prose and other roots', async t => {
  const named = foldersInDoc(
    ['| `probe/src/outbox/` | the outbox |', '| `aggregator/migrations/` | not under a checked root |', 'text naming `shared/src/netx/` outside a table', '| `test/` | the suite |'].join('\n')
  )
  t.same([...named.keys()], ['probe/src/outbox/', 'test/'])
})
