/**
 * The one palette (issue 17, item 6): the colours of bucket states and of
 * measurement outcomes, for the dashboard's stylesheet (served as
 * /dashboard/static/palette.css, made from this module), its uPlot charts
 * (the colours travel in each page's chart data) and the block reports'
 * vega-lite charts (timeline/chart.ts). Change a colour here and every one
 * of them follows.
 *
 * Blue for ok and red for blocked, never green beside red: the pair that
 * matters stays apart for the commonest colour blindness (red-green). An
 * outcome shares the colour of the state it most resembles: ok is ok's
 * blue, an anomaly likely_blocked's orange, a confirmed block blocked's
 * red, a failure down's grey.
 */
import type { BucketState } from '../timeline/states.ts'

/** The colour of each bucket state. */
export const STATE_COLORS: Readonly<Record<BucketState, string>> = Object.freeze({
  blocked: '#b2182b',
  likely_blocked: '#ef8a62',
  impaired: '#fddbc7',
  ok: '#2166ac',
  down: '#7f7f7f',
  insufficient: '#d9d9d9'
})

/** A measurement's outcome, by OONI's mutually exclusive rule. */
export type Outcome = 'ok' | 'anomaly' | 'confirmed' | 'failure'

/** The colour of each outcome (bars, badges). */
export const OUTCOME_COLORS: Readonly<Record<Outcome, string>> = Object.freeze({
  ok: STATE_COLORS.ok,
  anomaly: STATE_COLORS.likely_blocked,
  confirmed: STATE_COLORS.blocked,
  failure: STATE_COLORS.down
})

/**
 * How strongly a state tints the background of its bucket behind the
 * outcome bars (the dashboard's charts and legend): enough to see, not so
 * much that the bars drown.
 */
const STATE_BACKGROUND_ALPHA: Readonly<Record<BucketState, number>> = Object.freeze({
  blocked: 0.2,
  likely_blocked: 0.2,
  impaired: 0.3,
  ok: 0.07,
  down: 0.25,
  insufficient: 0.3
})

/** `#rrggbb` with an alpha, as CSS `rgba()`. */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex)
  if (m === null) throw new Error(`withAlpha: expected a colour as #rrggbb, got ${JSON.stringify(hex)}`)
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})`
}

/** The background tint of each state, as CSS colours. */
export const STATE_BACKGROUNDS: Readonly<Record<BucketState, string>> = Object.freeze(
  Object.fromEntries((Object.keys(STATE_COLORS) as BucketState[]).map(s => [s, withAlpha(STATE_COLORS[s], STATE_BACKGROUND_ALPHA[s])])) as Record<BucketState, string>
)

/** What a page's chart data carries for its scripts to draw with. */
export function chartPalette(): { outcomes: Record<Outcome, string>; states: Record<BucketState, string> } {
  return { outcomes: { ...OUTCOME_COLORS }, states: { ...STATE_BACKGROUNDS } }
}

/**
 * The palette as a stylesheet: custom properties (`--ok`, `--state-blocked`,
 * …) that dashboard.css uses, and the legend's swatches.
 */
export function paletteCss(): string {
  const lines = ['/* The one palette (aggregator/src/present/palette.ts); generated, do not edit. */', ':root {']
  for (const [k, v] of Object.entries(OUTCOME_COLORS)) lines.push(`  --${k}: ${v};`)
  for (const [k, v] of Object.entries(STATE_COLORS)) lines.push(`  --state-${k.replace('_', '-')}: ${v};`)
  for (const [k, v] of Object.entries(STATE_BACKGROUNDS)) lines.push(`  --state-${k.replace('_', '-')}-bg: ${v};`)
  lines.push('}')
  for (const k of Object.keys(OUTCOME_COLORS)) lines.push(`.sw.${k} { background: var(--${k}); }`)
  for (const k of Object.keys(STATE_COLORS)) lines.push(`.bg.${k} { background: var(--state-${k.replace('_', '-')}-bg); }`)
  return lines.join('\n') + '\n'
}
