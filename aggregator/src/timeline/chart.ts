/**
 * Timeline charts as SVG, rendered on the server with vega-lite → vega
 * (renderer "none": no canvas, no browser). One row per network, one cell
 * per bucket, coloured by state in the one palette (present/palette.ts).
 */
// vega and vega-lite (about 200 modules) are loaded on the first chart, not
// when a command or a page that draws none imports this file.
import type { TopLevelSpec } from 'vega-lite'
import type { BucketState } from './states.ts'
import { STATE_COLORS } from '../present/palette.ts'
import { earliest, fitStart } from '../present/chart-window.ts'

/** One cell of a chart. */
export interface ChartCell {
  row: string
  time: string
  state: BucketState
  measurements: number
}

/** The colour of each state: the one palette's (present/palette.ts). */
export { STATE_COLORS }

const ORDER: BucketState[] = ['blocked', 'likely_blocked', 'impaired', 'ok', 'down', 'insufficient']

/** What a chart shows: its title, its window, the width of one cell, and its width in pixels (default 720). */
export interface ChartOptions {
  title: string
  since: Date
  until: Date
  grainMs: number
  width?: number
}

/**
 * The vega-lite spec of a state-strip chart. The x axis runs from the
 * window's start, or from just before the first cell when the data starts
 * later (present/chart-window.ts), to the window's end.
 */
export function timelineSpec(cells: ChartCell[], opts: ChartOptions): TopLevelSpec {
  const rows = [...new Set(cells.map(c => c.row))]
  const data = cells.map(c => ({ ...c, end: new Date(new Date(c.time).getTime() + opts.grainMs).toISOString() }))
  const start = fitStart(opts.since.getTime(), opts.until.getTime(), earliest(cells.map(c => Date.parse(c.time))), opts.grainMs)
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title, anchor: 'start', fontSize: 13 },
    width: opts.width ?? 720,
    height: { step: 18 },
    background: 'white',
    data: { values: data },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'time', type: 'temporal', title: null, scale: { domain: [new Date(start).toISOString(), opts.until.toISOString()] }, axis: { format: '%b %d %H:%M', labelAngle: 0, tickCount: 8 } },
      x2: { field: 'end' },
      y: { field: 'row', type: 'nominal', title: null, sort: rows },
      color: {
        field: 'state',
        type: 'nominal',
        title: 'state',
        scale: { domain: ORDER, range: ORDER.map(s => STATE_COLORS[s]) },
        legend: { orient: 'bottom', direction: 'horizontal' }
      },
      tooltip: [{ field: 'time', type: 'temporal' }, { field: 'state' }, { field: 'measurements', type: 'quantitative' }]
    }
  }
}

/** Renders a state-strip chart as SVG; `grainMs` is the width of one cell. */
export async function renderTimelineSvg(cells: ChartCell[], opts: ChartOptions): Promise<string> {
  const spec = timelineSpec(cells, opts)
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')])
  const compiled = vl.compile(spec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
