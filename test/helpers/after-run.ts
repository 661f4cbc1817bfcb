/**
 * tap's `after` (package.json): runs once when a test run ends. Brings the
 * run's shared lab down (test/helpers/lab.ts, `shared: true`) and drops its
 * control vantage's database, when this run used it last.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import pg from 'pg'
import { down, labUnavailable, status } from '../../scripts/lab/lab.ts'
import { hostAdminUrl, SHARED_CONTROL_DB, SHARED_PREFIX, SHARED_STATE } from './lab.ts'

/** The tap runner that used the shared lab last (test/helpers/lab.ts), if any. */
function owner(): number | null {
  try {
    return (JSON.parse(readFileSync(SHARED_STATE, 'utf8')) as { owner?: number }).owner ?? null
  } catch {
    return null
  }
}

// This script's parent is the tap runner whose run just ended; a run that
// never used the lab leaves alone a lab another run beside it is using.
if (owner() === process.ppid && (await labUnavailable()) === null) {
  const now = await status({ prefix: SHARED_PREFIX })
  if (now.namespaces.length > 0 || now.processes.length > 0) await down({ prefix: SHARED_PREFIX })
  rmSync(SHARED_STATE, { force: true })
  if (existsSync('/var/run/postgresql/.s.PGSQL.5432')) {
    const admin = new pg.Client({ connectionString: hostAdminUrl() })
    try {
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS ${SHARED_CONTROL_DB} WITH (FORCE)`)
    } catch {
    } finally {
      await admin.end().catch(() => {})
    }
  }
}
