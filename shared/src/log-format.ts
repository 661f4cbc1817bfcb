/**
 * How the CLIs write their logs: JSON lines for log collectors, or short
 * readable lines for a person at a terminal (pino-pretty, in this thread,
 * without its worker transport).
 *
 * The choice: `--log-format pretty|json`, else LOG_FORMAT, else the
 * command's own default (readable at a terminal, JSON into a pipe or a
 * file, so that a collector or a test reading stdout gets JSON).
 */
import { createRequire } from 'node:module'
import type { DestinationStream } from 'pino'
import type pretty from 'pino-pretty'
import { UsageError } from './args.ts'

// pino-pretty is loaded by the first readable stream: a probe or server logging JSON never loads it (docs/benchmarks.md, "Probe footprint").
const require = createRequire(import.meta.url)

export type LogFormat = 'json' | 'pretty'

/** The chosen format; throws a UsageError naming the flag or variable for any other value. */
export function logFormat(flag: string | undefined, env: NodeJS.ProcessEnv, fallback: LogFormat): LogFormat {
  const check = (name: string, value: string): LogFormat => {
    if (value === 'json' || value === 'pretty') return value
    throw new UsageError(`${name} must be json or pretty, got ${JSON.stringify(value)}`)
  }
  if (flag !== undefined) return check('--log-format', flag)
  if (env.LOG_FORMAT !== undefined && env.LOG_FORMAT !== '') return check('LOG_FORMAT', env.LOG_FORMAT)
  return fallback
}

/** The default of a command whose logs go to `fd`: readable at a terminal, JSON otherwise. */
export function terminalDefault(stream: { isTTY?: boolean }): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json'
}

/**
 * A pino destination printing one short line per entry: time, level (when
 * not info), message and its fields, with no pid or host name.
 * Synchronous, so nothing is lost when the process exits on a signal.
 */
export function prettyStream(fd: 1 | 2, colorize: boolean): DestinationStream {
  const build = require('pino-pretty') as typeof pretty
  return build({
    destination: fd,
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,probe,reqId,req,res,responseTime',
    singleLine: true
  })
}
