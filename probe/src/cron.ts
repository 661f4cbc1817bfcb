/**
 * When a cron schedule fires next, in the machine's local time, and the
 * timer that fires it (probe/src/schedule.ts). node-cron still reads the
 * expressions: config.ts validates them with it, and parse() here expands
 * them into the values each field allows. Its own scheduler is not used: it
 * finds every next run by formatting dates through Intl.DateTimeFormat, and
 * the first such formatter of a process touches about 5 MB of ICU's data in
 * the Node binary, which stayed resident in a probe waiting for its schedule
 * (docs/benchmarks.md, "Probe footprint"; docs/architecture.md, "Probe").
 * Date's local-time getters give the same wall-clock fields without it.
 *
 * The instants are node-cron's (test/probe-volunteer/cron.test.ts compares
 * both across daylight-saving changes east and west of UTC):
 * - the day of month, the month and the day of week must all match (not
 *   either day field, as in Vixie cron);
 * - a wall-clock time is turned into an instant by reading it as UTC, then
 *   taking away the zone's offset at that instant, and again with the
 *   offset at the result when the two differ. A time a spring-forward skips
 *   comes out past the gap, and fires only when that instant's own wall
 *   clock matches the expression; a time a fall-back repeats fires once.
 */
import { parse } from 'node-cron'

type DayField = Array<number | string>

/** The values each field of an expression allows, as node-cron's parse() expands them. */
export interface CronFields {
  second: number[]
  minute: number[]
  hour: number[]
  /** Days 1–31, and node-cron's tokens: "L" (the last day), "L-3" (three before it), "15W" and "LW" (the weekday nearest). */
  dayOfMonth: DayField
  month: number[]
  /** 0–6 from Sunday, and "5L" (the month's last Friday) or "1#2" (its second Monday). */
  dayOfWeek: DayField
}

/** A calendar day and a time on it, on the local wall clock. */
interface WallTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

const MINUTE_MS = 60_000
/** How far ahead a next run is looked for, in days (an expression such as 30 February never matches). */
const HORIZON_DAYS = 366 * 100

/** An expression's fields (node-cron's parse(); it throws on an invalid expression). */
export function cronFields(expression: string): CronFields {
  const f = parse(expression)
  const asc = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)
  return { second: asc(f.second), minute: asc(f.minute), hour: asc(f.hour), dayOfMonth: f.dayOfMonth, month: f.month, dayOfWeek: f.dayOfWeek }
}

const wallOf = (ms: number): WallTime & { weekday: number } => {
  const d = new Date(ms)
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds(), weekday: d.getDay() }
}
/** The zone's offset east of UTC at an instant, in minutes. */
const offsetAt = (ms: number): number => -new Date(ms).getTimezoneOffset()
const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate()
const weekdayOf = (year: number, month: number, day: number): number => new Date(Date.UTC(year, month - 1, day)).getUTCDay()

/** Whether a day of month matches one value of the field: a number or one of the L and W tokens. */
function dayOfMonthIs(value: number | string, year: number, month: number, day: number): boolean {
  if (typeof value === 'number') return value === day
  const last = daysIn(year, month)
  if (value === 'L') return day === last
  const before = /^L-(\d{1,2})$/.exec(value)
  if (before !== null) return day === last - Number(before[1])
  const nearest = /^(\d{1,2}|L)W$/.exec(value)
  if (nearest === null) return false
  const target = nearest[1] === 'L' ? last : Number(nearest[1])
  if (target < 1 || target > last) return false
  // A Saturday moves to the Friday before, a Sunday to the Monday after, never out of the month.
  const wd = weekdayOf(year, month, target)
  const weekday = wd === 6 ? (target === 1 ? 3 : target - 1) : wd === 0 ? (target === last ? last - 2 : target + 1) : target
  return day === weekday
}

/** Whether a day matches one value of the day-of-week field: a weekday, its last in the month ("5L") or its nth ("1#2"). */
function dayOfWeekIs(value: number | string, year: number, month: number, day: number, weekday: number): boolean {
  if (typeof value === 'number') return value === weekday
  const lastOf = /^([0-7])L$/i.exec(value)
  if (lastOf !== null) return Number(lastOf[1]) % 7 === weekday && day + 7 > daysIn(year, month)
  const nth = /^([0-7])#([1-5])$/.exec(value)
  if (nth !== null) return Number(nth[1]) % 7 === weekday && Math.ceil(day / 7) === Number(nth[2])
  return false
}

function dayMatches(f: CronFields, year: number, month: number, day: number): boolean {
  const weekday = weekdayOf(year, month, day)
  return f.month.includes(month) && f.dayOfMonth.some(v => dayOfMonthIs(v, year, month, day)) && f.dayOfWeek.some(v => dayOfWeekIs(v, year, month, day, weekday))
}

/** Whether an instant's local wall clock matches every field. */
export function cronMatches(f: CronFields, ms: number): boolean {
  const w = wallOf(ms)
  return f.second.includes(w.second) && f.minute.includes(w.minute) && f.hour.includes(w.hour) && dayMatches(f, w.year, w.month, w.day)
}

/** The instant of a local wall-clock time (the module's comment says how skipped and repeated times come out). */
function instantOf(w: WallTime): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  const firstOffset = offsetAt(asUtc)
  const first = asUtc - firstOffset * MINUTE_MS
  const secondOffset = offsetAt(first)
  if (secondOffset === firstOffset) return first
  const second = asUtc - secondOffset * MINUTE_MS
  const readsBack = (ms: number): boolean => {
    const r = wallOf(ms)
    return r.year === w.year && r.month === w.month && r.day === w.day && r.hour === w.hour && r.minute === w.minute && r.second === w.second
  }
  if (readsBack(first)) return first
  if (readsBack(second)) return second
  return Math.max(first, second)
}

/** The first instant after `after` (to the second) whose local wall clock matches the fields. Throws when none comes within a hundred years. */
export function nextCronRun(f: CronFields, after: Date): Date {
  const base = Math.floor(after.getTime() / 1000) * 1000
  const from = wallOf(base)
  const day = new Date(Date.UTC(from.year, from.month - 1, from.day))
  for (let i = 0; i < HORIZON_DAYS; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    const [year, month, dom] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()]
    if (!dayMatches(f, year, month, dom)) continue
    for (const hour of f.hour) {
      if (i === 0 && hour < from.hour) continue
      for (const minute of f.minute) {
        for (const second of f.second) {
          // On the first day, only wall-clock times after the base's.
          if (i === 0 && hour * 3600 + minute * 60 + second <= from.hour * 3600 + from.minute * 60 + from.second) continue
          const ms = instantOf({ year, month, day: dom, hour, minute, second })
          if (ms > base && cronMatches(f, ms)) return new Date(ms)
        }
      }
    }
  }
  throw new Error('no run of this schedule within a hundred years')
}

/** A scheduled task: its next run, and a way to stop it. */
export interface CronTask {
  /** The next time it fires (before the random delay), or null once stopped. */
  nextRun: () => Date | null
  stop: () => void
}

export interface CronTaskOptions {
  /** Each run starts after a random delay below this, in milliseconds (node-cron's maxRandomDelay). */
  maxRandomDelayMs: number
  /** Called instead of a run: the previous one (its delay included) is still going, or the process woke too late for the slot (a suspended machine). */
  onSkipped: (slot: Date, why: 'overlap' | 'missed') => void
}

/** A slot fires when the timer comes at most this late (node-cron's default missed-execution tolerance). */
const TOLERANCE_MS = 1000
/** setTimeout's longest delay; a later slot is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Runs `run` at every time the expression matches, after a random delay,
 * never two at once: a slot that comes while the previous run is still
 * going is skipped, as is one the process wakes for more than a second late.
 */
export function scheduleCron(expression: string, run: () => Promise<void>, opts: CronTaskOptions): CronTask {
  const f = cronFields(expression)
  let stopped = false
  let running = false
  let timer: NodeJS.Timeout | undefined
  let delay: NodeJS.Timeout | undefined
  let slot = nextCronRun(f, new Date())
  const arm = (): void => {
    timer = setTimeout(beat, Math.min(Math.max(slot.getTime() - Date.now(), 0), MAX_TIMER_MS))
  }
  const beat = (): void => {
    const now = Date.now()
    if (now < slot.getTime()) {
      arm()
      return
    }
    const due = slot
    slot = nextCronRun(f, new Date(Math.max(now, due.getTime())))
    if (now - due.getTime() > TOLERANCE_MS) opts.onSkipped(due, 'missed')
    else if (running) opts.onSkipped(due, 'overlap')
    else {
      running = true
      delay = setTimeout(
        () => {
          delay = undefined
          run()
            .catch(() => {})
            .finally(() => {
              running = false
            })
        },
        Math.floor(Math.random() * opts.maxRandomDelayMs)
      )
    }
    arm()
  }
  arm()
  return {
    nextRun: () => (stopped ? null : nextCronRun(f, new Date())),
    stop() {
      stopped = true
      clearTimeout(timer)
      clearTimeout(delay)
    }
  }
}
