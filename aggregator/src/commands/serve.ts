/** `blockwatch aggregator serve`: run the HTTP server until SIGTERM. */
import { parseFlags, runCommand } from '../../../shared/src/args.ts'
import { serverConfig } from '../config.ts'
import { startServer } from '../server.ts'

const HELP = `blockwatch aggregator serve — run the aggregator's HTTP server

Options (each with an environment variable):
  --port N            PORT, default 8080
  --host ADDR         HOST, default 127.0.0.1
  --data-dir DIR      BLOCKWATCH_DATA_DIR: PGlite's folder when DATABASE_URL
                      is unset or empty, default ./data/pglite
  DATABASE_URL        postgres://… selects PostgreSQL; unset selects PGlite
  DATABASE_READ_URL   postgres://… of a streaming replica of DATABASE_URL:
                      researcher and dashboard reads go there (back to the
                      primary while it does not answer); needs DATABASE_URL
  PUBLIC_URL          base of the links the aggregator writes
  --control-allow CIDR,…  CONTROL_ALLOW: ranges the control vantage may reach
                      despite its SSRF guard (private, loopback…), e.g. the lab's
  --ca FILE           extra CA certificates (PEM) the control vantage trusts;
                      NODE_EXTRA_CA_CERTS is trusted too
  ADMIN_TOKEN         guards target lists, fingerprints and probe revocation
                      (unset: admin routes refuse everyone)
  FINGERPRINTS_DIR    OONI's blocking-fingerprints folder, used for scoring
                      until an admin uploads a list (PUT /api/v1/fingerprints)
  --log-format FORMAT LOG_FORMAT: json (default; pino JSON lines on stdout, one
                      per request, for log collectors) or pretty (short readable
                      lines on stderr, no line per request)
  LOG_LEVEL=silent    no logs at all
  PSEUDONYM_SECRET    key of the public probe pseudonyms (unset: generated once
                      and shared through the database)

Example:
  PORT=8080 blockwatch aggregator serve --host 0.0.0.0
`

/** Runs the server until SIGINT or SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP)
      return 0
    }
    const { values } = parseFlags(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'control-allow': { type: 'string' },
      ca: { type: 'string' },
      'log-format': { type: 'string' }
    })
    const server = await startServer(serverConfig(values, process.env))
    process.stderr.write(`blockwatch aggregator listening on ${server.url} (database: ${server.db.kind})\n`)
    await new Promise<void>(resolve => {
      const stop = (): void => {
        server.close().then(resolve, resolve)
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
    return 0
  })
}
