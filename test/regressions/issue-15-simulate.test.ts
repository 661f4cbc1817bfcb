/**
 * Issue 15's simulator faults: `simulate … | head` ends quietly (it died
 * with an EPIPE stack trace); documents carry their target's category_code
 * and the demo's codes are Citizen Lab's; a closed port is named as such
 * (it said only "fetch failed").
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { buildDoc } from '../../aggregator/src/simulate/docs.ts'
import { generate } from '../../aggregator/src/simulate/generate.ts'
import { CITIZEN_LAB_CATEGORIES, loadScenario, validateScenario, scenarioStartMs } from '../../aggregator/src/simulate/scenario.ts'
import { closedPort } from '../fixtures/servers/web.ts'

const run = async (args: string[], firstLineOnly = false): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  await new Promise(resolve => {
    const p = spawn(process.execPath, ['scripts/blockwatch.js', 'simulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', d => {
      stdout += String(d)
      // The reader goes away after the first line, as `head -1` does.
      if (firstLineOnly && stdout.includes('\n')) p.stdout.destroy()
    })
    p.stderr.on('data', d => {
      stderr += String(d)
    })
    p.on('close', code => resolve({ code, stdout, stderr }))
  })

t.test('simulate --dry-run | head ends quietly', async t => {
  const r = await run(['--scenario', 'demo', '--dry-run'], true)
  t.equal(r.code, 0, r.stderr)
  t.notMatch(r.stderr, /EPIPE|Error|at /, 'no stack trace')
  t.ok(JSON.parse(r.stdout.split('\n')[0]).measurement_uid, 'the first document came through')
})

t.test("documents carry the target's Citizen Lab category", async t => {
  const s = loadScenario('demo')
  for (const target of s.targets) t.ok(target.category_code === undefined || CITIZEN_LAB_CATEGORIES.has(target.category_code), `${target.input}: ${target.category_code}`)
  t.equal(s.targets.find(x => x.input === 'https://web.telegram.org/')?.category_code, 'COMT', 'Telegram is a communication tool')
  const plan = generate(s, scenarioStartMs(s, Date.now()))
  const item = plan.items[0]
  const doc = buildDoc(s, plan.probes[item.probe], 'p', item)
  t.equal(doc.annotations?.category_code, s.targets[item.target].category_code)
  const bad = structuredClone(s)
  bad.targets[0].category_code = 'CHAT'
  t.throws(() => validateScenario(bad), /targets\[0\]\.category_code: "CHAT" is not a Citizen Lab category code/)
})

t.test('a closed port is named, with the fix', async t => {
  const port = await closedPort()
  const r = await run(['--scenario', 'demo', '--aggregator', `http://127.0.0.1:${port}`])
  t.equal(r.code, 1)
  t.match(r.stderr, `cannot reach the aggregator at http://127.0.0.1:${port} (ECONNREFUSED)`)
  t.match(r.stderr, /is the aggregator running/)
})
