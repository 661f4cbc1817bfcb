/**
 * A private PostgreSQL cluster for the fault tests (issue 9): made with
 * initdb in a temporary folder, listening on 127.0.0.1 on a port of its own,
 * so that a test can stop, kill and restart it without touching the
 * machine's shared server on 5432.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root (CI) the
 * cluster's files belong to the `postgres` user and every pg_ctl/initdb runs
 * through `runuser -u postgres`.
 */
import { execFile } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The folder holding initdb and pg_ctl (the newest installed major version), or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root)
    .filter(v => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(root, versions[0], 'bin') : null
}

/** Why a private cluster cannot be made here, or null when it can. Tests skip with this reason. */
export function pgClusterUnavailable(): string | null {
  if (postgresBinDir() === null) return 'no initdb under /usr/lib/postgresql/*/bin'
  if (userInfo().uid === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
    return 'running as root without runuser to drop to the postgres user'
  }
  return null
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a !== null ? a.port : 0
      s.close(() => {
        resolve(port)
      })
    })
  })
}

/** A running private cluster. */
export interface PgCluster {
  port: number
  /** The data folder. */
  dir: string
  /** A postgres:// URL for `database` (default "postgres"). */
  url: (database?: string) => string
  /** Creates a database and returns its URL. */
  createDatabase: (name: string) => Promise<string>
  /** Starts the server (again) and waits until it accepts connections. */
  start: () => Promise<void>
  /** Stops the server. `immediate` aborts every session, as a crash would. */
  stop: (mode?: 'fast' | 'immediate') => Promise<void>
  /** Stops (immediate by default) and starts again. */
  restart: (mode?: 'fast' | 'immediate') => Promise<void>
  /** Runs psql with one command and returns its output (tuples only, unaligned). */
  psql: (sql: string, database?: string) => Promise<string>
  /** Stops the server and removes its files. */
  destroy: () => Promise<void>
}

/** Options for {@link startPgCluster}. */
export interface PgClusterOptions {
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>
}

/**
 * Makes and starts a private cluster. Throws when it cannot; call
 * {@link pgClusterUnavailable} first to skip instead.
 */
export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const { bin, base, owned } = await clusterFolder('bw-pgc-')
  const dir = join(base, 'data')
  await owned(join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
  return await runCluster(bin, base, dir, owned, opts)
}

/**
 * Makes and starts a streaming replica of `primary` (issue 18,
 * test/faults/replica.test.ts): pg_basebackup -R copies the primary's files
 * and writes primary_conninfo and standby.signal, so the second postmaster,
 * on a port of its own, starts as a hot standby that replays the primary's
 * WAL as it is written. The primary needs nothing beyond initdb's defaults
 * (wal_level=replica, max_wal_senders=10, and trust for replication from
 * 127.0.0.1 in pg_hba.conf). No replication slot: a replica stopped for
 * long could fall behind the WAL the primary keeps, which a test never does.
 */
export async function startPgReplica(primary: PgCluster, opts: PgClusterOptions = {}): Promise<PgCluster> {
  const { bin, base, owned } = await clusterFolder('bw-pgr-')
  const dir = join(base, 'data')
  await owned(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', dir, '-R', '-X', 'stream', '--no-sync', '-c', 'fast'])
  // hot_standby is on by default; named because the replica tests read from it.
  return await runCluster(bin, base, dir, owned, { ...opts, settings: { hot_standby: 'on', ...opts.settings } })
}

type Owned = (cmd: string, args: string[]) => Promise<{ stdout: string; stderr: string }>

/** A temporary folder for a cluster, owned by postgres when we are root (the server refuses to run as root). */
async function clusterFolder(prefix: string): Promise<{ bin: string; base: string; owned: Owned }> {
  const bin = postgresBinDir()
  if (bin === null) throw new Error('no initdb under /usr/lib/postgresql/*/bin; install PostgreSQL or skip this test')
  const asRoot = userInfo().uid === 0
  const base = mkdtempSync(join(tmpdir(), prefix))
  const owned: Owned = async (cmd, args) => (asRoot ? await run('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: base }) : await run(cmd, args, { cwd: base }))
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: g } = await run('id', ['-g', 'postgres'])
    chownSync(base, Number(stdout.trim()), Number(g.trim()))
    chmodSync(base, 0o700)
  }
  return { bin, base, owned }
}

/** Starts a postmaster on the data folder `dir` (inside `base`), on a free loopback port. */
async function runCluster(bin: string, base: string, dir: string, owned: Owned, opts: PgClusterOptions): Promise<PgCluster> {
  const sock = join(base, 'sock')
  await owned('mkdir', ['-p', sock])
  const port = await freePort()
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: sock,
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: 100,
    shared_buffers: '32MB',
    ...opts.settings
  }
  const o = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${String(v)}`)
    .join(' ')
  const pgCtl = join(bin, 'pg_ctl')
  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`
  const psql = async (sql: string, database = 'postgres'): Promise<string> =>
    (await run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { maxBuffer: 512 * 1024 * 1024 })).stdout
  let running = false
  const start = async (): Promise<void> => {
    await owned(pgCtl, ['-D', dir, '-l', join(base, 'server.log'), '-o', o, '-w', '-t', '60', 'start'])
    running = true
  }
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    if (!running) return
    await owned(pgCtl, ['-D', dir, '-m', mode, '-w', '-t', '60', 'stop'])
    running = false
  }
  await start()
  return {
    port,
    dir,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: lower-case letters, digits and _ only`)
      await psql(`CREATE DATABASE ${name}`)
      return url(name)
    },
    start,
    stop,
    async restart(mode = 'immediate') {
      await stop(mode)
      await start()
    },
    psql,
    async destroy() {
      await stop('immediate').catch(() => {})
      rmSync(base, { recursive: true, force: true })
    }
  }
}
