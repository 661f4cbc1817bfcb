/**
 * Benchmark 1: probe throughput in the lab. The lab (scripts/lab) runs with
 * its benchmark scenario: healthy sites behind the userspace delay relay in
 * isp, 50 ms of added round-trip time, and the control vantage in world.
 * probe-worker.ts runs in the client namespace, once as blockwatch's engine
 * and once as a bare client, alternately, on the same targets at the same
 * concurrency; this process reads their RSS from /proc.
 *
 * The lower bound: targets ÷ concurrency × the delay one measurement must
 * cross. In this lab that is 3.5 round trips for an https target: the DNS
 * answers (A and AAAA in parallel; the relay delays the answer only, half a
 * round trip), the TLS handshake step, and the GET's own connection (TLS
 * handshake, then request and response). The relay accepts TCP locally, so
 * TCP handshakes cross no delay; on a real network they would add two more.
 */
import { down, labUnavailable, up } from '../lab/lab.ts'
import { loadScenario } from '../lab/plan.ts'
import type { BenchContext, BenchResult } from './context.ts'
import { scaled } from './context.ts'
import { JsonChild, REPO, RssSampler, fmt, mb, median, nowMs, thin, tsNode, type RssSample } from './util.ts'

const PREFIX = 'bwbench-'
/** Why the full run measures RSS over 10,000 targets, not 100,000, given the rate measured (per second). */
export const longRunReason = (rate: number): string =>
  `at the ${fmt(rate)} measurements/s the lab sustained here, 100,000 targets take ${fmt(100_000 / rate / 60)} minutes, too much of the 60-minute budget beside the other benchmarks (the load average varies from 4 to 20 on this shared machine); BENCH_PROBE_LONG=100000 runs them`
const RTT_MS = 50
/** Round trips of added delay one https web_connectivity measurement crosses in this lab (see above). */
export const ROUND_TRIPS = 3.5
const CONCURRENCY = 32
const SITES = 64

interface WorkerResult {
  ms: number
  count: number
  ok: number
  failures: number
  rss_peak: number
}

async function work(
  ns: string,
  mode: 'probe' | 'bare',
  n: number,
  concurrency: number,
  resolver: string,
  caFile: string,
  controlUrl: string | null,
  sampleEveryMs = 250
): Promise<WorkerResult & { samples: RssSample[]; sampled_peak: number }> {
  const argv = ['ip', 'netns', 'exec', ns, ...tsNode('./probe-worker.ts', [mode, String(n), String(concurrency), resolver, caFile, String(SITES), ...(controlUrl !== null ? [controlUrl] : [])])]
  const child = new JsonChild(argv, { label: `${mode}-worker`, cwd: REPO, env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile } })
  // `ip netns exec` execs the command: the pid is the worker's own.
  const rss = new RssSampler(child.pid, sampleEveryMs)
  const r = await child.next<WorkerResult & { exited?: number }>()
  const s = rss.stop()
  await child.exited()
  if (r.exited !== undefined) throw new Error(`${mode} worker exited with ${r.exited}`)
  return { ...r, samples: s.samples, sampled_peak: s.peak }
}

/** Runs the probe benchmark. */
export async function runProbe(ctx: BenchContext): Promise<BenchResult> {
  const t0 = nowMs()
  const why = await labUnavailable()
  if (why !== null) throw new Error(`the probe benchmark needs the lab: ${why}`)
  const targets = scaled(ctx, 1000, 200)
  // 100,000 in the issue; 10,000 in the full run: see longRunReason.
  const longRun = scaled(ctx, Number(process.env.BENCH_PROBE_LONG ?? 10_000), 2000)
  const scenario = loadScenario(`${REPO}scripts/lab/scenarios/benchmark.json`)
  ctx.log(`probe: lab up (${SITES} sites, ${RTT_MS} ms RTT, control vantage)`)
  const info = await up({ prefix: PREFIX, scenario: { ...scenario, sites: SITES, rttMs: RTT_MS, control: true } })
  try {
    const ns = info.namespaces.client
    const control = info.controlUrl
    const bound = (targets / CONCURRENCY) * ROUND_TRIPS * RTT_MS
    // One measurement alone: how close a single bare measurement comes to the delay it must cross.
    // The probe at rest: Node, the tsx loader and the engine's modules, no target.
    const idle = await work(ns, 'probe', 0, CONCURRENCY, info.resolver, info.caFile, null)
    const single = await work(ns, 'bare', 20, 1, info.resolver, info.caFile, null)
    const singleMs = single.ms / 20
    ctx.log(`probe: a bare measurement alone takes ${fmt(singleMs)} ms (delay crossed: ${ROUND_TRIPS * RTT_MS} ms)`)
    const runs: Array<{ probe: WorkerResult; bare: WorkerResult; noControl: WorkerResult }> = []
    for (let i = 0; i < ctx.runs; i++) {
      // With the control vantage once (it is slow: see below).
      const probe = i === 0 ? await work(ns, 'probe', targets, CONCURRENCY, info.resolver, info.caFile, control) : runs[0]!.probe
      const noControl = await work(ns, 'probe', targets, CONCURRENCY, info.resolver, info.caFile, null)
      const bare = await work(ns, 'bare', targets, CONCURRENCY, info.resolver, info.caFile, null)
      for (const [what, r] of [
        ['probe', probe],
        ['probe without control', noControl],
        ['bare', bare]
      ] as const) {
        if (r.count !== targets) throw new Error(`${what} measured ${r.count} of ${targets}`)
      }
      runs.push({ probe, bare, noControl })
      ctx.log(
        `probe run ${i + 1}/${ctx.runs}: probe with control ${fmt(probe.ms / 1000, 2)} s (${probe.ok} accessible), without ${fmt(noControl.ms / 1000, 2)} s (${noControl.ok} ok), bare ${fmt(bare.ms / 1000, 2)} s (${bare.ok} ok); bound ${fmt(bound / 1000, 2)} s; peak RSS ${mb(probe.rss_peak)} MB`
      )
    }
    // The headline is the probe without the control vantage, like the bound and
    // the bare client: with it, every measurement also waits for the control's
    // own measurement of the URL, on the same two cores.
    const probeMs = median(runs.map(r => r.noControl.ms))
    const vsBound = median(runs.map(r => r.noControl.ms / bound))
    const vsBare = median(runs.map(r => r.noControl.ms / r.bare.ms))
    const ctlVsBare = runs[0]!.probe.ms / runs[0]!.bare.ms
    const ctlVsBound = runs[0]!.probe.ms / bound
    const peakRss = Math.max(...runs.map(r => Math.max(r.probe.rss_peak, r.noControl.rss_peak)))
    const bareRss = Math.max(...runs.map(r => r.bare.rss_peak))
    const bareVsBound = median(runs.map(r => r.bare.ms / bound))

    ctx.log(`probe: ${fmt(longRun)} targets for the RSS curve`)
    const long = await work(ns, 'probe', longRun, CONCURRENCY, info.resolver, info.caFile, null, 1000)
    const curve = thin(long.samples, 20)
    const firstTenth = long.samples.filter(s => s.t > (long.ms / 1000) * 0.1 && s.t <= (long.ms / 1000) * 0.2).map(s => s.rss)
    const lastTenth = long.samples.filter(s => s.t > (long.ms / 1000) * 0.9).map(s => s.rss)
    const drift = median(lastTenth) - median(firstTenth)
    // Flat: no growth from early in the run to its end (GC makes it wobble either way).
    const flat = drift < 15e6
    const metBound = vsBound <= 1.5
    const metRss = peakRss <= 120e6
    const data = {
      concurrency: CONCURRENCY,
      sites: SITES,
      rtt_ms: RTT_MS,
      round_trips: ROUND_TRIPS,
      bound_ms: bound,
      single_bare_ms: singleMs,
      runs: runs.map(r => ({
        probe_control_ms: r.probe.ms,
        probe_ms: r.noControl.ms,
        bare_ms: r.bare.ms,
        probe_control_ok: r.probe.ok,
        probe_ok: r.noControl.ok,
        bare_ok: r.bare.ok,
        probe_control_rss_peak: r.probe.rss_peak,
        probe_rss_peak: r.noControl.rss_peak,
        bare_rss_peak: r.bare.rss_peak,
        failure_kinds: [r.probe, r.noControl].map(x => (x as unknown as { failure_kinds?: unknown }).failure_kinds)
      })),
      median_probe_ms: probeMs,
      median_ratio_to_bound: vsBound,
      median_ratio_to_bare: vsBare,
      median_control_ratio_to_bare: ctlVsBare,
      median_control_ratio_to_bound: ctlVsBound,
      median_bare_ratio_to_bound: bareVsBound,
      bare_peak_rss_bytes: bareRss,
      peak_rss_bytes: peakRss,
      idle_rss_bytes: idle.rss_peak,
      long_run: { targets: longRun, ms: long.ms, ok: long.ok, rss_peak: long.rss_peak, rate_per_s: longRun / (long.ms / 1000), rss_curve: curve, drift_bytes: drift },
      targets_met: { bound: metBound, rss: metRss, flat },
      target_count: targets,
      targets: [
        {
          what: `probe time vs lower bound (${fmt(targets)} targets, concurrency 32, 50 ms RTT)`,
          target: '≤ 1.5×',
          measured: `${vsBound.toFixed(2)}× (${fmt(probeMs / 1000, 2)} s vs ${fmt(bound / 1000, 2)} s); bare client ${bareVsBound.toFixed(2)}×; probe ÷ bare ${vsBare.toFixed(2)}×`,
          met: metBound
        },
        { what: 'probe peak RSS', target: '≤ 120 MB', measured: `${mb(peakRss)} MB`, met: metRss },
        { what: `RSS over ${fmt(longRun)} targets`, target: 'flat', measured: `${mb(median(firstTenth))} → ${mb(median(lastTenth))} MB (10–20% vs last 10% of the run)`, met: flat }
      ]
    }
    const markdown = [
      `${fmt(targets)} web_connectivity targets (https://site-NNN.lab.test/?n=K, round robin over ${SITES} lab sites), concurrency ${CONCURRENCY} (per host 2, the engine's default), ${RTT_MS} ms of round-trip time added by the lab's userspace delay relay in isp, the control vantage in world. The probe is blockwatch's engine (\`measure()\`, probe/src/engine.ts) with each measurement written to a JSONL file as \`probe run --output\` does; the bare client (scripts/bench/probe-worker.ts) does the same DNS, TCP, TLS and GET steps with Node's dgram, net and tls and nothing else. Both run in the lab's client namespace; the lab's relay, sites and control vantage run on the same two cores.`,
      '',
      `**Lower bound.** One https measurement crosses ${ROUND_TRIPS} round trips of added delay in this lab: the DNS answers (A and AAAA in parallel; the relay delays answers only, so half a round trip), the TLS handshake step, then the GET's own connection (TLS handshake, request and response). The relay accepts TCP connections itself, so TCP handshakes cross no delay (on a real network they would add two round trips). Bound = ${fmt(targets)} ÷ ${CONCURRENCY} × ${ROUND_TRIPS} × ${RTT_MS} ms = **${fmt(bound / 1000, 2)} s**. A bare measurement alone takes ${fmt(singleMs)} ms against the ${fmt(ROUND_TRIPS * RTT_MS)} ms of delay it crosses.`,
      '',
      '| run | probe (s) | bare client (s) | probe ÷ bound | bare ÷ bound | probe ÷ bare | probe peak RSS (MB) | probe with control (s) | with control ÷ bare |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...runs.map(
        (r, i) =>
          `| ${i + 1} | ${fmt(r.noControl.ms / 1000, 2)} | ${fmt(r.bare.ms / 1000, 2)} | ${(r.noControl.ms / bound).toFixed(2)} | ${(r.bare.ms / bound).toFixed(2)} | ${(r.noControl.ms / r.bare.ms).toFixed(2)} | ${mb(r.noControl.rss_peak)} | ${i === 0 ? fmt(r.probe.ms / 1000, 2) : '–'} | ${i === 0 ? (r.probe.ms / r.bare.ms).toFixed(2) : '–'} |`
      ),
      `| **median** | **${fmt(probeMs / 1000, 2)}** | ${fmt(median(runs.map(r => r.bare.ms)) / 1000, 2)} | **${vsBound.toFixed(2)}** | ${bareVsBound.toFixed(2)} | **${vsBare.toFixed(2)}** | **${mb(peakRss)}** (max, either probe run) | ${fmt(runs[0]!.probe.ms / 1000, 2)} (run 1) | ${ctlVsBare.toFixed(2)} |`,
      '',
      `The bare client itself takes ${bareVsBound.toFixed(2)}× the bound: that much is the machine (TLS handshakes on both ends, the relay's copying, the other processes on two cores), not the probe. Its peak RSS is ${mb(bareRss)} MB: the same Node process with tsx and the engine's modules loaded, so most of the probe's RSS is the runtime, not the measurements in flight. The probe with no target at all peaks at ${mb(idle.rss_peak)} MB: Node alone is about 41 MB, and the tsx loader that \`blockwatch\` registers to run TypeScript adds about 47 MB (a loader thread with its own heap).`,
      '',
      `The headline figures are the probe without the control vantage, like the bound and the bare client. With the control vantage (the last two columns; ${runs[0]?.probe.ok ?? 0} of ${fmt(targets)} accessible in run 1, measured once since it is slow) every measurement also waits for the aggregator's POST /api/v1/control, which measures the same URL again from world on the same two cores. For reference, OONI's CLI measures URLs one after another at 0.7–2 s each: ${fmt(targets)} URLs would take it 12–33 minutes.`,
      '',
      `Targets: ≤ 1.5× the bound — **${metBound ? 'met' : 'missed'}** (${vsBound.toFixed(2)}×${metBound ? '' : `; the bare client, doing nothing but the steps, takes ${bareVsBound.toFixed(2)}× on this machine, so the gap is the shared CPU, not the engine: the probe takes ${vsBare.toFixed(2)}× the bare client`}); peak RSS ≤ 120 MB — **${metRss ? 'met' : 'missed'}** (${mb(peakRss)} MB${metRss ? '' : `, of which ${mb(idle.rss_peak)} MB at rest; the fix is to run the probe as compiled JavaScript (tsc) rather than through tsx, which saves the loader's ~47 MB`}).`,
      '',
      `**${fmt(longRun)} targets** (same settings, no control vantage, streamed from a generator, RSS sampled every second): ${fmt(long.ms / 1000)} s (${fmt(longRun / (long.ms / 1000))} measurements/s), peak RSS ${mb(long.rss_peak)} MB. RSS over the run (s → MB): ${curve.map(s => `${fmt(s.t)}→${mb(s.rss)}`).join(', ')}. From the 10–20% mark to the last 10% of the run RSS moved by ${mb(drift)} MB: **${flat ? 'flat (no growth)' : 'growing'}**.${longRun < 100_000 ? ` The issue asks for 100,000 targets: ${longRunReason(longRun / (long.ms / 1000))}.` : ''}`
    ].join('\n')
    if (longRun < 100_000)
      data.targets.push({ what: '100,000-target run', target: 'run it', measured: `${fmt(longRun)} targets in the full run (${longRunReason(longRun / (long.ms / 1000))})`, met: false })
    return { name: 'probe', at: new Date().toISOString(), scale: ctx.scale, seconds: (nowMs() - t0) / 1000, data, markdown }
  } finally {
    await down({ prefix: PREFIX })
  }
}
