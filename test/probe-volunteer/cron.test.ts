// The probe's cron timing (probe/src/cron.ts): the same next runs as node-cron's own matcher, in zones east and west
// of UTC, across their daylight-saving changes; and the timer's random delay, overlap and missed-slot rules.
import t from 'tap'
import cron from 'node-cron'
import { cronFields, nextCronRun, scheduleCron } from '../../probe/src/cron.ts'

/** node-cron's next match after a date, in a zone (its task's matcher: what its scheduler waits for). */
const nodeCronNext = (expression: string, zone: string) => {
  const task = cron.createTask(expression, () => {}, { timezone: zone }) as unknown as { timeMatcher: { getNextMatch: (d: Date) => Date } }
  return (d: Date): Date => task.timeMatcher.getNextMatch(d)
}

/** The instants in 2026 where a zone's offset changes (to the hour), read from Date. */
function transitions(): number[] {
  const out: number[] = []
  const start = Date.UTC(2026, 0, 1)
  for (let ms = start; ms < Date.UTC(2027, 0, 1); ms += 3_600_000) if (new Date(ms).getTimezoneOffset() !== new Date(ms + 3_600_000).getTimezoneOffset()) out.push(ms)
  return out
}

const EXPRESSIONS = [
  '0 * * * *', // the priority list's default
  '30 3 * * *', // the full list's default
  '30 2 * * *', // inside Europe's spring-forward gap and fall-back repeat
  '0,30 1-3 * * *',
  '*/20 59 1 * * *',
  '15 0 * * 0', // Sundays, when most changes happen
  '0 12 L * *',
  '0 9 15W * *',
  '0 18 * * 5L',
  '0 7 * * 1#2',
  '0 0 L-3 2 *',
  '0 0 29 2 *',
  '@daily'
]
const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'America/St_Johns', 'Asia/Kolkata', 'UTC']

t.test('next runs: node-cron’s instants, in every zone, around every daylight-saving change', async t => {
  const saved = process.env.TZ
  t.teardown(() => {
    if (saved === undefined) delete process.env.TZ
    else process.env.TZ = saved
  })
  let compared = 0
  for (const zone of ZONES) {
    process.env.TZ = zone
    t.equal(transitions().length, zone === 'Asia/Kolkata' || zone === 'UTC' ? 0 : 2, `${zone}: its changes in 2026 found`)
    // Bases: an hour either side of each change and a few fixed days, each followed for eight runs.
    const bases = [...transitions().flatMap(ms => [ms - 7_200_000, ms - 1_800_000, ms + 1_800_000]), Date.UTC(2026, 1, 27, 12), Date.UTC(2026, 11, 31, 23, 59, 59, 500)]
    for (const expression of EXPRESSIONS) {
      const theirs = nodeCronNext(expression, zone)
      const fields = cronFields(expression)
      const wrong: string[] = []
      for (const base of bases) {
        let a = new Date(base)
        let b = new Date(base)
        for (let k = 0; k < 8; k++) {
          a = nextCronRun(fields, a)
          b = theirs(b)
          compared++
          if (a.getTime() !== b.getTime()) {
            wrong.push(`after ${new Date(base).toISOString()} run ${k}: ${a.toISOString()} vs node-cron ${b.toISOString()}`)
            break
          }
        }
      }
      t.same(wrong.slice(0, 3), [], `${zone} ${expression}`)
    }
  }
  t.ok(compared > 3000, `${compared} next runs compared`)
})

t.test('the timer: a slot fires once, after its random delay, never over a run still going', async t => {
  const skipped: string[] = []
  let started = 0
  let running = 0
  let overlapped = false
  const task = scheduleCron(
    '* * * * * *',
    async () => {
      started++
      running++
      if (running > 1) overlapped = true
      await new Promise(r => setTimeout(r, 2200))
      running--
    },
    { maxRandomDelayMs: 200, onSkipped: (_slot, why) => skipped.push(why) }
  )
  t.teardown(() => task.stop())
  const next = task.nextRun()
  t.ok(next !== null && next.getTime() > Date.now() && next.getTime() <= Date.now() + 1000, 'the next second')
  await new Promise(r => setTimeout(r, 4600))
  task.stop()
  t.notOk(overlapped, 'never two runs at once')
  t.ok(started >= 1 && started <= 2, `runs started: ${started}`)
  t.ok(skipped.filter(w => w === 'overlap').length >= 2, `slots skipped while a run went on: ${skipped.join(', ')}`)
  t.equal(task.nextRun(), null, 'stopped')
})

t.test('the timer: a slot the process wakes for more than a second late is skipped, not run', async t => {
  const skipped: string[] = []
  let started = 0
  const task = scheduleCron(
    '* * * * * *',
    async () => {
      started++
    },
    { maxRandomDelayMs: 0, onSkipped: (_slot, why) => skipped.push(why) }
  )
  t.teardown(() => task.stop())
  // The event loop held past the next slot and a second more, as a suspended machine would.
  const until = Date.now() + 2300
  while (Date.now() < until) {}
  await new Promise(r => setTimeout(r, 50))
  t.equal(started, 0, 'nothing ran for the late slot')
  t.same(skipped, ['missed'])
  await new Promise(r => setTimeout(r, 1200))
  t.ok(started >= 1, 'the next slot ran')
})
