/** `blockwatch aggregator migrate`: apply pending migrations and exit. */
import { parseFlags, runCommand } from '../../../shared/src/args.ts'
import { serverConfig } from '../server.ts'
import { openDatabase } from '../store/db.ts'
import { migrate } from '../store/migrate.ts'

/** Applies the pending migrations. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write('blockwatch aggregator migrate — apply pending database migrations\n\nOptions: --data-dir DIR (PGlite folder); DATABASE_URL selects PostgreSQL\n\nExample:\n  DATABASE_URL=postgres://postgres@127.0.0.1/blockwatch blockwatch aggregator migrate\n')
      return 0
    }
    const { values } = parseFlags(argv, { 'data-dir': { type: 'string' } })
    const cfg = serverConfig(values, process.env)
    const db = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir })
    try {
      const applied = await migrate(db)
      process.stdout.write(applied.length === 0 ? 'migrations: up to date\n' : `migrations applied: ${applied.join(', ')}\n`)
    } finally { await db.close() }
    return 0
  })
}
