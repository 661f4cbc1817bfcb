/**
 * `npm start` (`blockwatch dev`): the aggregator on embedded PostgreSQL
 * (PGlite under ./data) at http://localhost:8080 (PORT changes the port),
 * with a local probe reporting into it.
 */
import { runCommand } from '../../shared/src/args.ts'
import { serverConfig, startServer } from './server.ts'

/** Runs the development stack until SIGINT or SIGTERM. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`blockwatch dev — the aggregator on embedded PostgreSQL with a local probe

Usage: npm start   (or: blockwatch dev)
Environment: PORT (default 8080), HOST (default 127.0.0.1), DATABASE_URL (unset: PGlite under ./data)

Example:
  PORT=9090 npm start
`)
      return 0
    }
    const cfg = serverConfig({}, { ...process.env, HOST: process.env.HOST ?? 'localhost' })
    const server = await startServer(cfg)
    process.stderr.write(`blockwatch: aggregator on ${server.url} (database: ${server.db.kind}); try ${server.url}/healthz\n`)
    await new Promise<void>(resolve => {
      const stop = (): void => { server.close().then(resolve, resolve) }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
    return 0
  })
}
