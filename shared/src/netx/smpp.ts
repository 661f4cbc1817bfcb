/**
 * The SMPP steps (SMPP 3.4) on an open TCP connection, for the probe's
 * sms_gateway nettest and the aggregator's control alike: bind_transceiver,
 * enquire_link and unbind, each one request and its response under a
 * timeout, failures classified like every other step (./classify.ts).
 * No submit_sm exists here: no SMS can leave.
 */
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { classifyError, NetCode, NetError } from './classify.ts'

/** The SMPP port when the target URL names none. */
export const SMPP_DEFAULT_PORT = 2775

/** The well-known test account of SMPP simulators (SMPPSim), used when the row carries none. */
export const DEFAULT_SMPP_ACCOUNT = Object.freeze({ system_id: 'smppclient1', password: 'password' })

/** The account of an smpp:// URL: its user and password, or DEFAULT_SMPP_ACCOUNT. */
export function smppAccount(url: URL): { system_id: string; password: string } {
  return url.username !== '' ? { system_id: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : DEFAULT_SMPP_ACCOUNT
}

/** The part of the smpp package's API we use (it ships no types). */
interface SmppPdu {
  command: string
  command_status: number
}
interface SmppSession {
  bind_transceiver: (opts: Record<string, unknown>, cb: (pdu: SmppPdu) => void) => void
  enquire_link: (cb: (pdu: SmppPdu) => void) => void
  unbind: (cb: (pdu: SmppPdu) => void) => void
  on: (ev: string, fn: (arg: unknown) => void) => void
  destroy: () => void
}
interface SmppModule {
  Session: new (opts: { socket: Socket }) => SmppSession
}
const smpp = createRequire(import.meta.url)('smpp') as SmppModule

/** One SMPP exchange as recorded. */
export interface SmppStep {
  command: string
  command_status: number | null
  failure: string | null
  t: number
}

/** An SMPP session over a connected socket, and a promise of the error that ends it. */
export interface SmppConnection {
  session: SmppSession
  closed: Promise<Error>
}

/** Starts an SMPP session on an open TCP connection. */
export function smppOpen(socket: Socket): SmppConnection {
  const session = new smpp.Session({ socket })
  const closed = new Promise<Error>(resolve => {
    session.on('error', err => resolve(err as Error))
    session.on('close', () => resolve(new NetError(NetCode.eof, 'the gateway closed the connection')))
  })
  return { session, closed }
}

/** The bind_transceiver request of an account (SMPP 3.4). */
export const bindRequest = (account: { system_id: string; password: string }): Record<string, unknown> => ({ ...account, system_type: '', interface_version: 0x34 })

/**
 * Sends one SMPP request and waits for its response, under `timeoutMs`.
 * Resolves with the step as recorded (`t`: seconds since `startedAt`); a
 * timeout, reset or close is a failure string, never a rejection.
 */
export async function smppExchange(
  conn: SmppConnection,
  command: 'bind_transceiver' | 'enquire_link' | 'unbind',
  opts: Record<string, unknown>,
  timeoutMs: number,
  startedAt: number
): Promise<SmppStep> {
  const { session } = conn
  const reply = new Promise<SmppPdu>(resolve => {
    if (command === 'bind_transceiver') session.bind_transceiver(opts, resolve)
    else session[command](resolve)
  })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Error>(resolve => {
    timer = setTimeout(() => resolve(new NetError(NetCode.timeout, `${command} timed out`)), timeoutMs)
  })
  try {
    const r = await Promise.race([reply, timeout, conn.closed])
    const t = (Date.now() - startedAt) / 1000
    if (r instanceof Error) return { command, command_status: null, failure: classifyError(r), t }
    return { command, command_status: r.command_status, failure: null, t }
  } finally {
    clearTimeout(timer)
  }
}
