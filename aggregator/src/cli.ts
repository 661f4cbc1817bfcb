/**
 * `blockwatch aggregator …`: the aggregator's subcommands.
 */
import { parseFlags, runCommand, UsageError } from '../../shared/src/args.ts'
import { serverConfig, startServer } from './server.ts'

const HELP = `blockwatch aggregator — collect measurements and serve the researcher API

Usage: blockwatch aggregator <subcommand> [options]

Subcommands:
  serve     run the HTTP server (ingest, researcher API, control vantage)
  migrate   apply pending database migrations and exit

serve options (each with an environment variable):
  --port N            PORT, default 8080
  --host ADDR         HOST, default 127.0.0.1
  --data-dir DIR      BLOCKWATCH_DATA_DIR: PGlite's folder when DATABASE_URL
                      is unset or empty, default ./data/pglite
  DATABASE_URL        postgres://… selects PostgreSQL; unset selects PGlite
  PUBLIC_URL          base of the links the aggregator writes

Example:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/blockwatch blockwatch aggregator serve --port 8080
`

/** Runs `blockwatch aggregator …`. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const [sub, ...rest] = argv
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(HELP)
      return sub === undefined ? 2 : 0
    }
    if (rest.includes('--help') || rest.includes('-h')) { process.stdout.write(HELP); return 0 }
    switch (sub) {
      case 'serve': {
        const { values } = parseFlags(rest, { port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' } })
        const server = await startServer(serverConfig(values, process.env))
        process.stderr.write(`blockwatch aggregator listening on ${server.url} (database: ${server.db.kind})\n`)
        await new Promise<void>(resolve => {
          const stop = (): void => { server.close().then(resolve, resolve) }
          process.once('SIGTERM', stop)
          process.once('SIGINT', stop)
        })
        return 0
      }
      case 'migrate': {
        const { values } = parseFlags(rest, { 'data-dir': { type: 'string' } })
        const cfg = serverConfig(values, process.env)
        const { openDatabase } = await import('./store/db.ts')
        const { migrate } = await import('./store/migrate.ts')
        const db = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir })
        try {
          const applied = await migrate(db)
          process.stdout.write(applied.length === 0 ? 'migrations: up to date\n' : `migrations applied: ${applied.join(', ')}\n`)
        } finally { await db.close() }
        return 0
      }
      default:
        throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}; see \`blockwatch aggregator --help\``)
    }
  })
}
