// Issue 2: `blockwatch --help` and every subcommand's --help say what it does
// and give an example; an unknown command names the choices.
import t from 'tap'
import { execFile } from 'node:child_process'
import { BLOCKWATCH_BIN } from '../helpers/paths.ts'

const BIN = BLOCKWATCH_BIN

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise(resolve => {
    // English whatever the machine's locale (the probe's help follows it): the assertions read English.
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, BLOCKWATCH_LANG: 'en' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

const COMMANDS: string[][] = [
  [],
  ['probe'],
  ['aggregator'],
  ['simulate'],
  ['dev'],
  ['lab'],
  ['bench'],
  ['probe', 'run'],
  ['probe', 'init'],
  ['probe', 'start'],
  ['probe', 'status'],
  ['probe', 'upload'],
  ['probe', 'export'],
  ['aggregator', 'serve'],
  ['aggregator', 'migrate'],
  ['aggregator', 'rescore'],
  ['aggregator', 'import-ooni'],
  ['aggregator', 'import']
]

t.test('every command and subcommand has --help with an example', async t => {
  // Four at a time: each is a Node process with the TypeScript loader.
  const queue = [...COMMANDS]
  const results = new Map<string, Awaited<ReturnType<typeof run>>>()
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let cmd = queue.shift(); cmd !== undefined; cmd = queue.shift()) results.set(cmd.join(' '), await run([...cmd, '--help']))
    })
  )
  for (const cmd of COMMANDS) {
    const name = ['blockwatch', ...cmd].join(' ')
    const r = results.get(cmd.join(' '))!
    t.equal(r.code, 0, `${name} --help exits 0 (${r.stderr.trim().slice(0, 200)})`)
    t.match(r.stdout, /example/i, `${name} --help gives an example`)
    t.ok(r.stdout.trim().split('\n')[0].length > 10, `${name} --help says what it does`)
  }
})

t.test('unknown commands name the choices and exit 2', async t => {
  const top = await run(['frobnicate'])
  t.equal(top.code, 2)
  t.match(top.stderr, /unknown command "frobnicate"; one of probe, aggregator/)
  const sub = await run(['aggregator', 'frobnicate'])
  t.equal(sub.code, 2)
  t.match(sub.stderr, /unknown aggregator subcommand "frobnicate"; one of serve, .*blockwatch aggregator --help/)
  const none = await run([])
  t.equal(none.code, 2, 'no command prints the help and exits 2')
  t.match(none.stdout, /Usage: blockwatch <command>/)
})
