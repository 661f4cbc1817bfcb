// The country page's timeline charts (issue 8): one uPlot chart per target,
// stacked ok / anomaly / confirmed / failure bars per bucket, the bucket's
// background shaded by its state. A click on a bar opens the measurements
// behind it. Data comes from the page's JSON block; nothing here writes HTML.
/* global uPlot */
;(function () {
  'use strict'
  var dataEl = document.getElementById('chart-data')
  if (dataEl === null || typeof uPlot === 'undefined') return
  var data = JSON.parse(dataEl.textContent)
  // The one palette (aggregator/src/present/palette.ts), sent with the data.
  var COLORS = data.palette.outcomes
  var STATE_BG = data.palette.states
  var grainS = data.grain_ms / 1000
  window.bwCharts = []

  function measurementsUrl(s, t) {
    var q = new URLSearchParams()
    q.set('probe_cc', data.probe_cc)
    if (s.domain !== '(all)') q.set('domain', s.domain)
    if (s.test_name) q.set('test_name', s.test_name)
    if (data.probe_asn) q.set('probe_asn', data.probe_asn)
    if (data.probe_region) q.set('probe_region', data.probe_region)
    q.set('since', new Date(t * 1000).toISOString())
    // until is exclusive (issue 14): the start of the next bucket.
    q.set('until', new Date((t + grainS) * 1000).toISOString())
    return '/measurements?' + q.toString()
  }

  data.series.forEach(function (s) {
    var fig = document.getElementById(s.id)
    if (fig === null) return
    var box = fig.querySelector('.chart')
    // Every bucket of the window, so that gaps show as gaps (unknown), not as zero.
    var byT = {}
    s.buckets.forEach(function (b) {
      byT[Math.floor(b[0] / 1000)] = b
    })
    var xs = []
    var ok = []
    var an = []
    var co = []
    var fa = []
    var states = []
    // data.since is already fitted to the page's first data (present/chart-window.ts).
    var start = Math.floor(data.since / 1000 / grainS) * grainS
    for (var t = start; t < data.until / 1000; t += grainS) {
      var b = byT[t]
      xs.push(t)
      ok.push(b ? b[1] : null)
      an.push(b ? b[2] : null)
      co.push(b ? b[3] : null)
      fa.push(b ? b[4] : null)
      states.push(b ? b[5] : null)
    }
    // Stacked: draw the running totals tallest first, so each colour shows its own share.
    var c1 = ok.map(function (v) {
      return v === null ? null : v
    })
    var c2 = c1.map(function (v, i) {
      return v === null ? null : v + an[i]
    })
    var c3 = c2.map(function (v, i) {
      return v === null ? null : v + co[i]
    })
    var c4 = c3.map(function (v, i) {
      return v === null ? null : v + fa[i]
    })
    var bars = uPlot.paths.bars({ size: [0.8, 40], align: 1 })
    function part(label, color, raw) {
      return {
        label: label,
        fill: color,
        stroke: color,
        width: 0,
        paths: bars,
        points: { show: false },
        value: function (u, v, si, i) {
          return i == null || raw[i] == null ? '–' : String(raw[i])
        }
      }
    }
    var shade = function (u) {
      var ctx = u.ctx
      ctx.save()
      for (var i = 0; i < xs.length; i++) {
        var st = states[i]
        if (st === null || !STATE_BG[st]) continue
        var x0 = u.valToPos(xs[i], 'x', true)
        var x1 = u.valToPos(xs[i] + grainS, 'x', true)
        ctx.fillStyle = STATE_BG[st]
        ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height)
      }
      ctx.restore()
    }
    var width = Math.max(320, Math.min(box.clientWidth || 900, 1100))
    var u = new uPlot(
      {
        width: width,
        height: 180,
        scales: {
          x: { time: true, range: [start, data.until / 1000] },
          y: {
            range: function (u, min, max) {
              return [0, Math.max(1, Math.ceil(max * 1.25))]
            }
          }
        },
        // Times are UTC on every page.
        tzDate: function (ts) {
          return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC')
        },
        axes: [{}, { label: 'measurements', size: 50 }],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        hooks: { drawClear: [shade] },
        series: [
          {
            value: function (u, v) {
              return v == null ? '–' : new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
            }
          },
          part('failure', COLORS.failure, fa),
          part('confirmed', COLORS.confirmed, co),
          part('anomaly', COLORS.anomaly, an),
          part('ok', COLORS.ok, ok)
        ]
      },
      [xs, c4, c3, c2, c1],
      box
    )
    // The click opens the bucket under the cursor (align: 1 draws a bar from its bucket's start).
    u.over.style.cursor = 'pointer'
    u.over.addEventListener('click', function () {
      var left = u.cursor.left
      if (left == null || left < 0) return
      var t = Math.floor(u.posToVal(left, 'x') / grainS) * grainS
      var i = xs.indexOf(t)
      if (i < 0 || c4[i] === null || c4[i] === 0) return
      window.location.assign(measurementsUrl(s, t))
    })
    fig.dataset.buckets = String(s.buckets.length)
    window.bwCharts.push({ id: s.id, domain: s.domain, test_name: s.test_name, plot: u, xs: xs, totals: c4, grain: grainS })
  })
  document.body.dataset.chartsReady = String(window.bwCharts.length)
})()
