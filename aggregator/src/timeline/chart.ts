/**
 * Timeline charts as SVG, rendered on the server with vega-lite → vega
 * (renderer "none": no canvas, no browser). One row per network, one cell
 * per bucket, coloured by state.
 */
// vega and vega-lite (about 200 modules) are loaded on the first chart, not
// when a command or a page that draws none imports this file.
import type { TopLevelSpec } from 'vega-lite'
import type { BucketState } from './states.ts'

/** One cell of a chart. */
export interface ChartCell { row: string, time: string, state: BucketState, measurements: number }

/** The colour of each state (colour-blind-safe where it matters: blocked vs ok). */
export const STATE_COLORS: Readonly<Record<BucketState, string>> = Object.freeze({
  blocked: '#b2182b',
  likely_blocked: '#ef8a62',
  impaired: '#fddbc7',
  down: '#7f7f7f',
  insufficient: '#d9d9d9',
  ok: '#2166ac'
})

const ORDER: BucketState[] = ['blocked', 'likely_blocked', 'impaired', 'ok', 'down', 'insufficient']

/** Renders a state-strip chart; `grainMs` is the width of one cell. */
export async function renderTimelineSvg (cells: ChartCell[], opts: { title: string, since: Date, until: Date, grainMs: number, width?: number }): Promise<string> {
  const rows = [...new Set(cells.map(c => c.row))]
  const data = cells.map(c => ({ ...c, end: new Date(new Date(c.time).getTime() + opts.grainMs).toISOString() }))
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title, anchor: 'start', fontSize: 13 },
    width: opts.width ?? 720,
    height: { step: 18 },
    background: 'white',
    data: { values: data },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'time', type: 'temporal', title: null, scale: { domain: [opts.since.toISOString(), opts.until.toISOString()] }, axis: { format: '%b %d %H:%M', labelAngle: 0, tickCount: 8 } },
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
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')])
  const compiled = vl.compile(spec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
