/**
 * A small command-line flag parser shared by every subcommand, on top of
 * node:util parseArgs: it turns its errors into messages that name the flag
 * and say what to do.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A bad flag or flag value. The message names the flag and says what to do. */
export class UsageError extends Error {
  readonly code = 'BW_ERR_USAGE'
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Parses argv against the given options; throws UsageError on a bad flag. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''))
  }
}

/** Reads an integer flag value within [min, max], or throws a UsageError naming the flag. */
export function intFlag(name: string, value: string | undefined, def: number, min: number, max: number): number {
  if (value === undefined) return def
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return n
}

/**
 * Runs a subcommand body, printing a UsageError as one line on stderr
 * (exit code 2) and any other error as "blockwatch: …" (exit code 1).
 */
export async function runCommand(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`blockwatch: ${err.message}\n`)
      return 2
    }
    process.stderr.write(`blockwatch: ${(err as Error).message}\n`)
    return 1
  }
}

/** A lazily loaded subcommand: a module with `main(argv)`. */
export type Subcommand = () => Promise<{ main: (argv: string[]) => Promise<number> }>

/**
 * Routes argv to one of `subcommands`, loading only the one that runs.
 * No subcommand prints `help` (exit code 2); --help prints it (0); an
 * unknown one is a UsageError naming the choices and `usage`.
 */
export async function dispatch(argv: string[], subcommands: Readonly<Record<string, Subcommand>>, help: string, usage: string): Promise<number> {
  // `usage` is the command's name after "blockwatch" ('' for the top level).
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(help)
    return sub === undefined ? 2 : 0
  }
  const entry = subcommands[sub]
  if (entry === undefined) {
    const what = usage === '' ? 'command' : `${usage} subcommand`
    const helpCmd = usage === '' ? 'blockwatch --help' : `blockwatch ${usage} --help`
    return await runCommand(async () => {
      throw new UsageError(`unknown ${what} ${JSON.stringify(sub)}; one of ${Object.keys(subcommands).join(', ')} (see \`${helpCmd}\`)`)
    })
  }
  return await (await entry()).main(rest)
}
