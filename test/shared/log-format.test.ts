/**
 * Logs a person can read (issue 17, item 7): `aggregator serve` writes pino
 * JSON, one line per request, for log collectors; `--log-format pretty`
 * (npm start's default) writes short readable lines and none per request;
 * a bad format is refused with the flag's name.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { UsageError } from '../../shared/src/args.ts'
import { logFormat, terminalDefault } from '../../shared/src/log-format.ts'
import { serverConfig } from '../../aggregator/src/config.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

t.test('the choice: flag over LOG_FORMAT over the default; anything else named', async t => {
  t.equal(logFormat(undefined, {}, 'json'), 'json')
  t.equal(logFormat(undefined, { LOG_FORMAT: 'pretty' }, 'json'), 'pretty')
  t.equal(logFormat('json', { LOG_FORMAT: 'pretty' }, 'pretty'), 'json')
  t.throws(() => logFormat('xml', {}, 'json'), new UsageError('--log-format must be json or pretty, got "xml"'))
  t.throws(() => logFormat(undefined, { LOG_FORMAT: 'text' }, 'json'), /LOG_FORMAT must be json or pretty/)
  t.equal(terminalDefault({ isTTY: true }), 'pretty')
  t.equal(terminalDefault({}), 'json', 'a pipe or a file gets JSON')
  t.equal(serverConfig({}, {}).logger, 'json', 'serve: JSON by default')
  t.equal(serverConfig({}, {}, 'pretty').logger, 'pretty', 'npm start: readable by default')
  t.equal(serverConfig({}, { LOG_LEVEL: 'silent' }, 'pretty').logger, false)
})

/** Starts `aggregator serve` with `args`, makes two requests, stops it; resolves to its stdout and stderr lines. */
async function serveAndLog(args: string[], dbUrl: string, dataDir: string): Promise<{ out: string[]; err: string[] }> {
  const child = spawn(process.execPath, ['scripts/blockwatch.js', 'aggregator', 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl, LOG_FORMAT: '', LOG_LEVEL: '' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const out: string[] = []
  const err: string[] = []
  createInterface({ input: child.stdout }).on('line', l => out.push(l))
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr }).on('line', l => {
      err.push(l)
      const m = /listening on (http:\/\/\S+)/.exec(l)
      if (m !== null) resolve(m[1])
    })
    child.once('exit', code => reject(new Error(`serve exited with ${code}: ${err.join('\n')}`)))
  })
  for (const path of ['/healthz', '/api/v1/measurements?probe_cc=IR']) await (await fetch(url + path)).arrayBuffer()
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  return { out, err }
}

t.test('aggregator serve: JSON per request by default, quiet readable lines with --log-format pretty', async t => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bw-log-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  let url = ''
  if (testDriver() === 'pg') {
    const fresh = await freshDb()
    t.teardown(fresh.close)
    url = fresh.url
  }
  const json = await serveAndLog([], url, dataDir)
  const entries = json.out.map(l => JSON.parse(l) as { msg?: string; req?: { url?: string } })
  t.ok(
    entries.some(e => e.req?.url === '/healthz'),
    'json: a line per request, as JSON'
  )

  const pretty = await serveAndLog(['--log-format', 'pretty'], url, dataDir)
  t.same(pretty.out, [], 'pretty: nothing on stdout')
  const logLines = pretty.err.filter(l => !l.startsWith('blockwatch aggregator listening'))
  t.ok(
    logLines.some(l => /Server listening at/.test(l)),
    'pretty: the server says where it listens'
  )
  t.notOk(
    logLines.some(l => l.trimStart().startsWith('{')),
    'pretty: no JSON lines'
  )
  t.notOk(
    logLines.some(l => /healthz|incoming request|request completed/.test(l)),
    'pretty: no line per request'
  )

  const bad = spawn(process.execPath, ['scripts/blockwatch.js', 'aggregator', 'serve', '--log-format', 'xml'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  bad.stderr.on('data', (b: Buffer) => {
    stderr += b.toString()
  })
  const code = await new Promise(resolve => bad.once('exit', resolve))
  t.equal(code, 2, 'a bad format is a usage error')
  t.match(stderr, /--log-format must be json or pretty, got "xml"/)
})
