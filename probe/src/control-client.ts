/**
 * The probe's side of the control vantage: POST {control}/api/v1/control
 * with an OONI test-helper-shaped request, answered in the shape of OONI's
 * test-helper response (ooni/spec, backends/th-001-ooni.md) plus our
 * extensions for non-web targets (x_input: dns://, tcp://, tls://, smpp://,
 * smsapi+https://). A control that cannot be reached is data too: the
 * failure string is returned, never thrown.
 */
import { Agent, request } from 'undici'
import { Failure } from '../../shared/src/failures.ts'
import { classifyError, NetCode, NetError } from '../../shared/src/netx/classify.ts'

/** What the probe asks the control. */
export interface ControlRequest {
  /** The URL to fetch (web_connectivity and HTTP SMS APIs). */
  http_request?: string
  http_request_headers?: Record<string, string[]>
  /** "ip:port" endpoints to connect to (the probe's resolved addresses). */
  tcp_connect?: string[]
  /** A non-web target URL (dns://, tcp://, tls://, smpp://, smsapi+https://). */
  x_input?: string
}

/** The control's answer (open: fields differ by target kind). */
export type ControlAnswer = Record<string, unknown>

/** A control call's outcome. */
export interface ControlResult {
  control: ControlAnswer | null
  failure: string | null
}

/**
 * One dispatcher per list of roots, kept for the process: building a TLS
 * context parses every root (~100 ms of CPU), so it must not happen per query.
 */
const agents = new WeakMap<string[], Agent>()
export function agentFor(ca: string[]): Agent {
  let a = agents.get(ca)
  if (a === undefined) {
    a = new Agent({ connect: { ca } })
    agents.set(ca, a)
  }
  return a
}

/** Queries the control. Resolves with its answer or the failure string. */
export async function queryControl(baseUrl: string, req: ControlRequest, opts: { timeoutMs?: number; signal?: AbortSignal; ca?: string[] } = {}): Promise<ControlResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000
  const url = baseUrl.replace(/\/+$/, '') + '/api/v1/control'
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout])
  const dispatcher = opts.ca !== undefined && url.startsWith('https:') ? agentFor(opts.ca) : undefined
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(req),
      signal,
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    const text = await res.body.text()
    if (res.statusCode !== 200) return { control: null, failure: `${Failure.controlUnreachable}: status ${res.statusCode}` }
    const answer = JSON.parse(text) as unknown
    if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) return { control: null, failure: `${Failure.controlUnreachable}: not a JSON object` }
    return { control: answer as ControlAnswer, failure: null }
  } catch (err) {
    const e = timeout.aborted ? new NetError(NetCode.timeout, 'control timed out') : err
    return { control: null, failure: classifyError(e) }
  }
}
