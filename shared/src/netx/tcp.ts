/**
 * TCP connect to one address, with its own timeout and happy-eyeballs off
 * (`autoSelectFamily: false`), so that the measured address is the one
 * connected to. Recorded in OONI's `tcp_connect` shape (df-005-tcpconnect.md).
 */
import { connect as netConnect, type Socket } from 'node:net'
import { classifyError, NetCode, NetError } from './classify.ts'

/** One connect attempt as recorded in test_keys.tcp_connect. */
export interface TcpConnectEntry {
  ip: string
  port: number
  status: { success: boolean; failure: string | null; blocked: boolean | null }
  t: number
}

/** Connects; resolves with the socket or rejects with an error the classifier knows. */
export async function dial(ip: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    const sock = netConnect({ host: ip, port, autoSelectFamily: false })
    const done = (err?: Error): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      sock.removeAllListeners('connect')
      if (err !== undefined) {
        sock.destroy()
        reject(err)
      } else resolve(sock)
    }
    const onAbort = (): void => done(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))
    signal?.addEventListener('abort', onAbort)
    const timer = setTimeout(() => done(new NetError(NetCode.timeout, `connect timed out after ${timeoutMs} ms`)), timeoutMs)
    sock.once('connect', () => done())
    sock.once('error', err => done(err))
  })
}

/** Connects, records the attempt, and closes the socket unless `keep` is set. */
export async function tcpConnect(ip: string, port: number, timeoutMs: number, startedAt: number, signal?: AbortSignal): Promise<{ entry: TcpConnectEntry; socket: Socket | null }> {
  try {
    const socket = await dial(ip, port, timeoutMs, signal)
    socket.on('error', () => {})
    return { entry: { ip, port, status: { success: true, failure: null, blocked: false }, t: (Date.now() - startedAt) / 1000 }, socket }
  } catch (err) {
    return { entry: { ip, port, status: { success: false, failure: classifyError(err), blocked: null }, t: (Date.now() - startedAt) / 1000 }, socket: null }
  }
}

/** "ip:port", with IPv6 in brackets: the key OONI's control answer uses. */
export const endpoint = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)
