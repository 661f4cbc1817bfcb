/** Running the system tools the lab drives (ip, iptables, tc, openssl, apt-get). */
import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { join } from 'node:path'

/** What a finished command printed and returned. */
export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Options of run(). */
export interface RunOptions {
  /** Written to the command's stdin. */
  input?: string
  /** Resolve with a non-zero code instead of throwing. Default false. */
  allowFail?: boolean
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Kill the command after this many ms. Default none. */
  timeoutMs?: number
}

/** A system command that failed: names the command and carries its stderr. */
export class CommandError extends Error {
  readonly code = 'BW_ERR_LAB_COMMAND'
  constructor(
    readonly argv: string[],
    readonly result: RunResult
  ) {
    super(`${argv.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`)
    this.name = 'CommandError'
  }
}

/** Runs argv[0] with the rest as arguments (no shell); rejects with a CommandError unless allowFail. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await new Promise<RunResult>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code: code ?? (signal !== null ? 128 : 1), stdout, stderr }))
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
  if (result.code !== 0 && opts.allowFail !== true) throw new CommandError(argv, result)
  return result
}

/** True when `cmd` is an executable on PATH (or on root's usual sbin dirs). */
export async function have(cmd: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean)
  for (const d of dirs) {
    try {
      await access(join(d, cmd), constants.X_OK)
      return true
    } catch {}
  }
  return false
}
