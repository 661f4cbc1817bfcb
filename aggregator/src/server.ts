/**
 * The aggregator's edge: configuration from flags and environment, then
 * open → migrate → build() → listen(). The only aggregator file that reads
 * process.env.
 */
import type { FastifyInstance } from 'fastify'
import { UsageError, intFlag } from '../../shared/src/args.ts'
import { logFormat, type LogFormat } from '../../shared/src/log-format.ts'
import { loadFingerprintsDir } from '../../shared/src/fingerprints.ts'
import { parseCidr } from '../../shared/src/verdict/ip.ts'
import { readFileSync } from 'node:fs'
import { openDatabase, type Database } from './store/db.ts'
import { migrate } from './store/migrate.ts'
import { loadPseudonymSecret } from './pseudonym.ts'

/** The server's configuration, frozen once parsed. */
export interface ServerConfig {
  port: number
  host: string
  databaseUrl: string
  /** DATABASE_READ_URL: a streaming replica of databaseUrl for researcher and dashboard reads. Empty: reads go to databaseUrl. */
  databaseReadUrl: string
  /** Where PGlite keeps its files when databaseUrl is empty. */
  dataDir: string
  publicUrl: string
  /** LOG_LEVEL=silent: false; else --log-format / LOG_FORMAT (json for `serve`, pretty for `npm start`). */
  logger: false | 'json' | 'pretty'
  /** ADMIN_TOKEN: guards target lists, fingerprints and revocation. Empty: admin routes refuse everyone. */
  adminToken: string
  /** FINGERPRINTS_DIR: a folder with OONI's fingerprints_dns.csv and fingerprints_http.csv, used until an admin uploads a list. */
  fingerprintsDir: string
  /** PSEUDONYM_SECRET: the key of public probe pseudonyms. Empty: one shared through the database, loaded (made by the first instance) at start-up on the primary. */
  pseudonymSecret: string
  /** --control-allow / CONTROL_ALLOW: CIDR ranges the control vantage may reach despite its SSRF guard. */
  controlAllow: string[]
  /** --ca FILE and NODE_EXTRA_CA_CERTS: PEM files the control vantage trusts beside the system roots. */
  caFiles: string[]
}

/** Reads flags over environment over defaults. Throws UsageError naming the bad value. */
export function serverConfig (flags: { port?: string, host?: string, 'data-dir'?: string, 'control-allow'?: string, ca?: string, 'log-format'?: string }, env: NodeJS.ProcessEnv, defaultLogFormat: LogFormat = 'json'): Readonly<ServerConfig> {
  const port = intFlag('port (or PORT)', flags.port ?? env.PORT, 8080, 0, 65535)
  const host = flags.host ?? env.HOST ?? '127.0.0.1'
  if (host === '') throw new UsageError('--host (or HOST) must not be empty; use 127.0.0.1 or 0.0.0.0')
  const publicUrl = (env.PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '')
  try { new URL(publicUrl) } catch { throw new UsageError(`PUBLIC_URL must be a URL such as https://blockwatch.example.org, got ${JSON.stringify(publicUrl)}`) }
  const databaseUrl = env.DATABASE_URL ?? ''
  const databaseReadUrl = env.DATABASE_READ_URL ?? ''
  if (databaseReadUrl !== '' && databaseUrl === '') {
    throw new UsageError('DATABASE_READ_URL is set but DATABASE_URL is not: PGlite (used without DATABASE_URL) has no replicas; set DATABASE_URL to the primary, or unset DATABASE_READ_URL')
  }
  if (databaseReadUrl !== '' && !/^postgres(ql)?:\/\//.test(databaseReadUrl)) {
    throw new UsageError(`DATABASE_READ_URL must be a postgres:// URL of a streaming replica of DATABASE_URL, got ${JSON.stringify(databaseReadUrl.replace(/\/\/[^@/]*@/, '//…@'))}`)
  }
  return Object.freeze({
    port,
    host,
    databaseUrl,
    databaseReadUrl,
    dataDir: flags['data-dir'] ?? env.BLOCKWATCH_DATA_DIR ?? './data/pglite',
    publicUrl,
    logger: env.LOG_LEVEL === 'silent' ? false : logFormat(flags['log-format'], env, defaultLogFormat),
    adminToken: env.ADMIN_TOKEN ?? '',
    fingerprintsDir: env.FINGERPRINTS_DIR ?? '',
    pseudonymSecret: env.PSEUDONYM_SECRET ?? '',
    controlAllow: controlAllowFlag(flags['control-allow'] ?? env.CONTROL_ALLOW ?? ''),
    caFiles: [flags.ca, env.NODE_EXTRA_CA_CERTS].filter((f): f is string => f !== undefined && f !== '')
  })
}

/** Parses --control-allow (CONTROL_ALLOW): comma-separated CIDR ranges. */
function controlAllowFlag (text: string): string[] {
  const ranges = text.split(',').map(r => r.trim()).filter(r => r !== '')
  for (const r of ranges) if (parseCidr(r) === null) throw new UsageError(`--control-allow (or CONTROL_ALLOW) takes CIDR ranges such as 10.10.0.0/16,fd00::/8; got ${JSON.stringify(r)}`)
  return ranges
}

/** A running aggregator. */
export interface RunningServer { app: FastifyInstance, db: Database, url: string, close: () => Promise<void> }

/** Opens the database, migrates it, builds the app and listens. */
export async function startServer (cfg: Readonly<ServerConfig>): Promise<RunningServer> {
  // Migrations, the pseudonym secret and every write go to the primary;
  // only researcher and dashboard reads use the replica (store/replica.ts).
  const db = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, readUrl: cfg.databaseReadUrl })
  await migrate(db)
  // Loaded here, on the primary, rather than on the first researcher read:
  // the first instance creates it (an INSERT), which a replica would refuse.
  const pseudonymSecret = cfg.pseudonymSecret !== '' ? cfg.pseudonymSecret : await loadPseudonymSecret(db)
  const caPem = cfg.caFiles.map(f => {
    try { return readFileSync(f, 'utf8') } catch (err) { throw new UsageError(`--ca (or NODE_EXTRA_CA_CERTS): cannot read ${f}: ${(err as Error).message}`) }
  }).join('\n')
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
    async close () { await app.close(); await db.close() }
  }
}
