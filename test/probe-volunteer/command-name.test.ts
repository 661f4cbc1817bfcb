/**
 * Issue 17: the installed probe names the command it was run as. Its help
 * and its hints say `blockwatch-probe …` (the package's bin,
 * probe/bin/blockwatch-probe.js), the repository's `blockwatch probe …`,
 * in every language; "a blockwatch probe" in prose stays as it is.
 * test/faults/packages.test.ts runs the installed bin itself.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { main } from '../../probe/src/cli.ts'
import { nameCommand, setCommandName } from '../../probe/src/i18n/command.ts'
import { REPO_ROOT } from '../helpers/paths.ts'
import { capture } from '../helpers/capture.ts'

const saved = { BLOCKWATCH_LANG: process.env.BLOCKWATCH_LANG, LANG: process.env.LANG, LC_ALL: process.env.LC_ALL }
process.env.BLOCKWATCH_LANG = 'en'
t.teardown(() => {
  Object.assign(process.env, saved)
  setCommandName('blockwatch probe')
})

t.test('installed: the help and the hints say blockwatch-probe', async t => {
  const top = await capture(async () => await main(['--help'], 'blockwatch-probe'))
  t.equal(top.code, 0)
  t.match(top.out, /^blockwatch-probe — measure censorship from this network\n\nUsage: blockwatch-probe <subcommand> \[options\]/)
  t.notMatch(top.out, /blockwatch probe/, 'no usage line names the repository command')
  const status = await capture(async () => await main(['status', '--help'], 'blockwatch-probe'))
  t.match(status.out, /Usage: blockwatch-probe status/)
  t.notMatch(status.out, /blockwatch probe/)
  const ru = await capture(async () => await main(['init', '--help', '--lang', 'ru'], 'blockwatch-probe'))
  t.match(ru.out, /blockwatch-probe init --aggregator/, 'in another language too')
  t.notMatch(ru.out, /blockwatch probe/)
  const unknown = await capture(async () => await main(['frobnicate'], 'blockwatch-probe'))
  t.equal(unknown.code, 2)
  t.match(unknown.err, 'see `blockwatch-probe --help`', 'an error names the installed command')
})

t.test('in the repository: blockwatch probe, as before', async t => {
  const top = await capture(async () => await main(['--help']))
  t.match(top.out, /Usage: blockwatch probe <subcommand>/)
  t.notMatch(top.out, /blockwatch-probe/)
})

t.test('only the command is renamed, not the words "a blockwatch probe"', async t => {
  setCommandName('blockwatch-probe')
  t.equal(nameCommand('Before you run a blockwatch probe, please read this.'), 'Before you run a blockwatch probe, please read this.')
  t.equal(nameCommand('run `blockwatch probe init` to register; `blockwatch probe`'), 'run `blockwatch-probe init` to register; `blockwatch-probe`')
  t.equal(
    nameCommand('Usage: blockwatch probe <subcommand> [options]; blockwatch probe — x; blockwatch probe start [options]'),
    'Usage: blockwatch-probe <subcommand> [options]; blockwatch-probe — x; blockwatch-probe start [options]'
  )
  setCommandName('blockwatch probe')
})

t.test("the package's bin runs the probe as blockwatch-probe", async t => {
  const bin = readFileSync(join(REPO_ROOT, 'probe/bin/blockwatch-probe.js'), 'utf8')
  t.match(bin, "await main(argv, 'blockwatch-probe')")
})
