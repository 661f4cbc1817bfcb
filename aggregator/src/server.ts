/**
 * The aggregator's edge: with the configuration (config.ts), open → migrate
 * → build() → listen().
 */
import type { FastifyInstance } from 'fastify'
import { UsageError } from '../../shared/src/args.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { readFileSync } from 'node:fs'
import { openDatabase, type Database } from './store/db.ts'
import { migrate } from './store/migrate.ts'
import { loadPseudonymSecret } from './pseudonym.ts'
import type { ServerConfig } from './config.ts'

/** A running aggregator. */
export interface RunningServer {
  app: FastifyInstance
  db: Database
  url: string
  close: () => Promise<void>
}

/** Opens the database, migrates it, builds the app and listens. */
export async function startServer(cfg: Readonly<ServerConfig>): Promise<RunningServer> {
  // Migrations, the pseudonym secret and every write go to the primary;
  // only researcher and dashboard reads use the replica (store/replica.ts).
  const db = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, readUrl: cfg.databaseReadUrl })
  await migrate(db)
  // Loaded here, on the primary, rather than on the first researcher read:
  // the first instance creates it (an INSERT), which a replica would refuse.
  const pseudonymSecret = cfg.pseudonymSecret !== '' ? cfg.pseudonymSecret : await loadPseudonymSecret(db)
  const caPem = cfg.caFiles
    .map(f => {
      try {
        return readFileSync(f, 'utf8')
      } catch (err) {
        throw new UsageError(`--ca (or NODE_EXTRA_CA_CERTS): cannot read ${f}: ${(err as Error).message}`)
      }
    })
    .join('\n')
  const fingerprints = cfg.fingerprintsDir !== '' ? await loadFingerprintsDir(cfg.fingerprintsDir, `dir:${cfg.fingerprintsDir}`) : undefined
  // The app (fastify, its plugins, the routes, vega for the reports) is
  // loaded here, not at the top, with scoring (and the nettests' TypeBox
  // schemas): the commands that only read the config (archive, export,
  // import, migrate, rescore) start without them.
  const [{ build }, { staleRows }, { SCORING_VERSION }] = await Promise.all([import('./app.ts'), import('./store/measurements.ts'), import('../../shared/src/scoring.ts')])
  const app = await build({
    db,
    publicUrl: cfg.publicUrl,
    logger: cfg.logger,
    controlAllow: cfg.controlAllow,
    ...(caPem !== '' ? { caPem } : {}),
    ...(cfg.adminToken !== '' ? { adminToken: cfg.adminToken } : {}),
    ...(fingerprints !== undefined ? { fingerprints } : {}),
    pseudonymSecret
  })
  if (db.replica !== undefined) db.replica.logger = app.log
  const stale = await staleRows(db, SCORING_VERSION)
  if (stale > 0) app.log.warn(`${stale} measurements were judged by an older scoring version: their timelines are approximate until \`blockwatch aggregator migrate\` judges them again`)
  await app.listen({ port: cfg.port, host: cfg.host })
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port
  return {
    app,
    db,
    url: `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`,
    async close() {
      await app.close()
      await db.close()
    }
  }
}
