/**
 * The aggregator's configuration: flags over environment over defaults,
 * checked once and frozen. With the commands' entry points, the only
 * aggregator module that reads process.env (what `env` holds here is
 * process.env, passed in by the command). Kept apart from server.ts so
 * that a command that only needs the configuration (archive, export,
 * import, migrate, rescore) loads none of the server.
 */
import { UsageError, intFlag } from '../../shared/src/args.ts'
import { logFormat, type LogFormat } from '../../shared/src/log-format.ts'
import { parseCidr } from '../../shared/src/verdict/ip.ts'

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
export function serverConfig(
  flags: { port?: string; host?: string; 'data-dir'?: string; 'control-allow'?: string; ca?: string; 'log-format'?: string },
  env: NodeJS.ProcessEnv,
  defaultLogFormat: LogFormat = 'json'
): Readonly<ServerConfig> {
  const port = intFlag('port (or PORT)', flags.port ?? env.PORT, 8080, 0, 65535)
  const host = flags.host ?? env.HOST ?? '127.0.0.1'
  if (host === '') throw new UsageError('--host (or HOST) must not be empty; use 127.0.0.1 or 0.0.0.0')
  const publicUrl = (env.PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '')
  try {
    new URL(publicUrl)
  } catch {
    throw new UsageError(`PUBLIC_URL must be a URL such as https://blockwatch.example.org, got ${JSON.stringify(publicUrl)}`)
  }
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
function controlAllowFlag(text: string): string[] {
  const ranges = text
    .split(',')
    .map(r => r.trim())
    .filter(r => r !== '')
  for (const r of ranges) if (parseCidr(r) === null) throw new UsageError(`--control-allow (or CONTROL_ALLOW) takes CIDR ranges such as 10.10.0.0/16,fd00::/8; got ${JSON.stringify(r)}`)
  return ranges
}
