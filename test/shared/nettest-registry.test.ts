/**
 * A new nettest kind is one module on each side and one registry line each
 * (CONTRIBUTING.md): this file registers a throw-away kind, `line_echo`
 * (echo://host:port: connect, send a line, expect it back), and shows that
 * the probe's engine measures it against a loopback server, the
 * aggregator's ingest accepts and judges it, and the dashboard's explainer
 * puts its reasons in words, without any other file knowing the kind.
 * Also: every registered reason has words and is listed in
 * docs/methodology.md.
 */
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import t from 'tap'
import { Type } from '../../shared/src/typebox.ts'
import { parseFingerprints } from '../../shared/src/fingerprints.ts'
import type { Measurement } from '../../shared/src/measurement.ts'
import { nettests, registerNettest, validateTestKeys } from '../../shared/src/nettests/index.ts'
import { defineNettest } from '../../shared/src/nettests/kind.ts'
import { tcpConnect } from '../../shared/src/netx/tcp.ts'
import { verdict, type Verdict } from '../../shared/src/verdict/types.ts'
import { measure } from '../../probe/src/engine.ts'
import { registerRunner } from '../../probe/src/nettests/index.ts'
import type { TestContext } from '../../probe/src/nettests/types.ts'
import { prepareMeasurement } from '../../aggregator/src/ingest/prepare.ts'
import { explainMeasurement, reasonInWords } from '../../aggregator/src/dashboard/explain.ts'
import { targetOf } from '../fixtures/targets.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

// The shared half: name, version, scheme, schema, verdict, reasons in words.
type EchoReason = 'ok' | 'echo_wrong_reply' | 'echo_no_connect'
const lineEcho = defineNettest({
  name: 'line_echo',
  version: '0.1.0',
  schemes: { 'echo:': { defaultPort: null, tcp: true, tls: false } },
  testKeysSchema: Type.Object({ address: Type.String(), connect_failure: Type.Union([Type.String(), Type.Null()]), reply: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: true }),
  judge: (doc: Measurement): Verdict<EchoReason> | null => {
    const tk = doc.test_keys as { connect_failure?: string | null; reply?: string | null } | null
    if (tk == null) return null
    if (tk.connect_failure != null) return verdict('tcp_ip', false, 'echo_no_connect', [], tk.connect_failure)
    return tk.reply === 'ping\n' ? verdict(false, true, 'ok', []) : verdict('http-diff', false, 'echo_wrong_reply', [])
  },
  reasons: {
    ok: 'the line came back as sent',
    echo_wrong_reply: 'the echo server answered with another line',
    echo_no_connect: 'no TCP connection to the echo server could be made'
  }
})

// The probe half: the runner, built on netx.
async function run(ctx: TestContext): Promise<Record<string, unknown>> {
  const url = new URL(ctx.target.url)
  const { entry, socket } = await tcpConnect(url.hostname, Number(url.port), ctx.timeouts.connectMs, ctx.startedAt, ctx.signal)
  if (socket === null) return { address: `${url.hostname}:${url.port}`, connect_failure: entry.status.failure, reply: null }
  const reply = await new Promise<string>(resolve => {
    let got = ''
    socket.on('data', d => {
      got += String(d)
      if (got.includes('\n')) resolve(got)
    })
    socket.on('close', () => resolve(got))
    socket.write('ping\n')
  })
  socket.destroy()
  return { address: `${url.hostname}:${url.port}`, connect_failure: null, reply }
}

registerNettest(lineEcho)
registerRunner({ kind: lineEcho, run })

/** A loopback echo server; `mangle` makes it answer another line. */
async function echoServer(mangle: boolean): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<Socket>()
  const server = createServer(s => {
    sockets.add(s)
    s.on('data', d => s.write(mangle ? 'pong\n' : d))
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    }
  }
}

const good = await echoServer(false)
t.teardown(good.close)
const bad = await echoServer(true)
t.teardown(bad.close)
const closed = await echoServer(false)
closed.close()

const cases = [
  { url: `echo://127.0.0.1:${good.port}`, reason: 'ok', anomaly: false },
  { url: `echo://127.0.0.1:${bad.port}`, reason: 'echo_wrong_reply', anomaly: true },
  { url: `echo://127.0.0.1:${closed.port}`, reason: 'echo_no_connect', anomaly: true }
]
const noFingerprints = await parseFingerprints('', '', 'none')
const docs = new Map<string, Measurement>()
for await (const m of measure(
  cases.map(c => targetOf(c.url)),
  { timeouts: { connectMs: 2000 } }
))
  docs.set(m.input!, m)

for (const c of cases) {
  t.test(c.url, async t => {
    const doc = docs.get(c.url)
    if (doc === undefined) return t.fail('the engine measured it')
    t.equal(doc.test_name, 'line_echo', 'the scheme picked the kind')
    t.equal(doc.test_version, '0.1.0')
    t.same(validateTestKeys('line_echo', doc.test_keys), [], 'its test_keys validate against its schema')
    t.equal((doc.test_keys as { verdict_reason?: string }).verdict_reason, c.reason, "the probe judged it with the kind's verdict")

    const prepared = prepareMeasurement(JSON.parse(JSON.stringify(doc)), { fingerprints: noFingerprints, nowMs: Date.now() })
    if (!('row' in prepared)) return t.fail(`ingest refused it: ${prepared.refusal.reason}`)
    t.equal(prepared.row.verdict_reason, c.reason, 'ingest judged it again, the same way')
    t.equal(prepared.row.anomaly, c.anomaly)

    const words = lineEcho.reasons[c.reason as EchoReason]
    t.equal(reasonInWords(c.reason), c.reason === 'ok' ? reasonInWords('ok') : words, 'the explainer has its words')
    const ex = explainMeasurement(doc as unknown as Record<string, unknown>, { verdict_reason: prepared.row.verdict_reason, anomaly: prepared.row.anomaly })
    if (c.reason !== 'ok') t.match(JSON.stringify(ex), words, 'the explanation says it in words')
  })
}

t.test('a kind cannot take a registered name or scheme', async t => {
  t.throws(() => registerNettest(lineEcho), /registered already/)
  t.throws(() => registerNettest({ ...lineEcho, name: 'other_echo' }), /echo: of other_echo is measured by line_echo/)
})

t.test('every reason of the built-in kinds has words and is in docs/methodology.md', async t => {
  const methodology = readFileSync(join(REPO_ROOT, 'docs/methodology.md'), 'utf8')
  for (const kind of nettests().filter(k => k.name !== 'line_echo')) {
    for (const [reason, words] of Object.entries<string>(kind.reasons)) {
      t.ok(words.length > 10, `${kind.name}: ${reason} has words`)
      t.ok(methodology.includes(`\`${reason}\``), `docs/methodology.md lists ${reason}`)
    }
  }
  t.ok(
    nettests().some(k => 'probe_network_unreachable' in k.reasons),
    'probe_network_unreachable is a declared reason'
  )
})
