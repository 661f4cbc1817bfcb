/**
 * `npm start` (`blockwatch dev`): the aggregator on embedded PostgreSQL
 * (PGlite under ./data) at http://localhost:8080 (PORT changes the port),
 * with a local probe reporting into it.
 *
 * The probe runs as a child process (`blockwatch probe start`), so that it
 * never loads the aggregator's modules (fastify, PGlite), exactly as on a
 * volunteer's device. Its config lives in ./data/dev-probe/; it is created
 * on first start without consent (BLOCKWATCH_DEV_CONSENT=1 gives it), so it
 * tests only the small neutral list plus this aggregator's /healthz. It runs
 * once within 30 seconds, then on its schedule.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { runCommand } from '../../shared/src/args.ts'
import { fetchFingerprintCsvs, FINGERPRINTS_URL } from '../../shared/src/netx/fingerprints.ts'
import type { Queryable } from './store/db.ts'
import { probeExists } from './store/probes.ts'
import { storedFingerprintsVersion } from './store/fingerprints.ts'
import { serverConfig } from './config.ts'
import { startServer } from './server.ts'

const BLOCKWATCH = fileURLToPath(new URL('../../scripts/blockwatch.js', import.meta.url))

/** Runs a blockwatch subcommand to completion; resolves to its exit code. */
async function runCli(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [BLOCKWATCH, ...args], { stdio: ['ignore', 'inherit', 'inherit'] })
  return await new Promise(resolve => child.on('exit', code => resolve(code ?? 1)))
}

/** Prints the probe's pino lines compactly, prefixed "probe:". */
function relayLogs(child: ChildProcess): void {
  if (child.stdout === null) return
  createInterface({ input: child.stdout }).on('line', line => {
    try {
      const o = JSON.parse(line) as Record<string, unknown>
      const { level, time, pid, hostname, probe, msg, ...rest } = o
      void time
      void pid
      void hostname
      void probe
      const lv = typeof level === 'number' ? (level >= 50 ? 'error' : level >= 40 ? 'warn' : 'info') : 'info'
      process.stderr.write(`probe: ${lv === 'info' ? '' : lv + ': '}${String(msg ?? '')} ${Object.keys(rest).length > 0 ? JSON.stringify(rest) : ''}\n`)
    } catch {
      process.stderr.write(`probe: ${line}\n`)
    }
  })
}

/**
 * Without FINGERPRINTS_DIR, and with no list stored yet, fetches OONI's
 * current blockpage fingerprints once, in the background, so that a fresh
 * `npm start` can confirm blockpages. Offline, it says so and goes on with
 * none (BLOCKWATCH_OFFLINE=1 skips the attempt).
 */
async function fetchFingerprintsOnce(db: Queryable, put: (dnsCsv: string, httpCsv: string) => Promise<{ version: string }>): Promise<void> {
  const baseUrl = process.env.FINGERPRINTS_URL ?? FINGERPRINTS_URL
  try {
    if ((await storedFingerprintsVersion(db)) !== undefined) return
    const { dns, http } = await fetchFingerprintCsvs(baseUrl, 15_000)
    const { version } = await put(dns, http)
    process.stderr.write(`blockwatch: loaded OONI's blockpage fingerprints (${version})\n`)
  } catch (err) {
    process.stderr.write(
      `blockwatch: could not fetch OONI's blockpage fingerprints (${(err as Error).message}); blockpages are not confirmed until FINGERPRINTS_DIR names a folder with fingerprints_dns.csv and fingerprints_http.csv\n`
    )
  }
}

/** Runs the development stack until SIGINT or SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`blockwatch dev — the aggregator on embedded PostgreSQL with a local probe

Usage: npm start   (or: blockwatch dev [--no-probe] [--demo])
  --demo     also load the shipped demo scenario (simulated probes in IR and RU,
             blocking episodes, an outage, late uploads) so that the dashboard
             has something to show; \`npm start -- --demo\`
Environment: PORT (default 8080), LOG_FORMAT (pretty by default: short lines, none per request; json: pino JSON), HOST (default localhost), DATABASE_URL (unset: PGlite under ./data),
  FINGERPRINTS_DIR (OONI's fingerprint CSVs; unset: fetched once from github.com/ooni/blocking-fingerprints
  when online, or from FINGERPRINTS_URL; BLOCKWATCH_OFFLINE=1 skips that),
  BLOCKWATCH_DEV_CONSENT=1 (the local probe consents and tests the lists the aggregator serves;
  default: it tests only a small neutral list)

Example:
  PORT=9090 npm start
`)
      return 0
    }
    const cfg = serverConfig({}, { ...process.env, HOST: process.env.HOST ?? 'localhost' }, 'pretty')
    const server = await startServer(cfg)
    process.stderr.write(`blockwatch: aggregator on ${server.url} (database: ${server.db.kind}); try ${server.url}/healthz\n`)
    if ((process.env.FINGERPRINTS_DIR ?? '') === '' && process.env.BLOCKWATCH_OFFLINE !== '1') {
      void fetchFingerprintsOnce(server.db, server.app.fingerprints.put)
    }
    if (argv.includes('--demo') || process.env.BLOCKWATCH_DEMO === '1') {
      // Through the real ingest API, as `blockwatch simulate --scenario demo` would.
      const { loadScenario } = await import('./simulate/scenario.ts')
      const { simulateScenario } = await import('./simulate/post.ts')
      process.stderr.write('blockwatch: loading the demo scenario (simulated measurements, about a minute)…\n')
      simulateScenario(server.url, loadScenario('demo'), Date.now()).then(
        r => {
          process.stderr.write(`blockwatch: demo loaded: ${r.accepted} measurements accepted, ${r.duplicates} already there; open ${server.url}/\n`)
        },
        err => {
          process.stderr.write(`blockwatch: the demo could not be loaded: ${(err as Error).message}\n`)
        }
      )
    }

    let probe: ChildProcess | null = null
    let stopping = false
    if (!argv.includes('--no-probe')) {
      const base = resolve(cfg.dataDir, '..', 'dev-probe')
      const configFile = join(base, 'probe.json')
      const dataDir = join(base, 'state')
      // A config registered against a database that is gone would be refused forever: start afresh.
      if (existsSync(configFile)) {
        let probeId: string | null = null
        try {
          probeId = (JSON.parse(readFileSync(configFile, 'utf8')) as { probeId?: string | null }).probeId ?? null
        } catch {}
        const known = probeId !== null && (await probeExists(server.db, probeId))
        if (!known) rmSync(configFile)
      }
      if (!existsSync(configFile)) {
        const consent = process.env.BLOCKWATCH_DEV_CONSENT === '1' ? '--accept-risks' : '--decline'
        const code = await runCli(['probe', 'init', '--config', configFile, '--data-dir', dataDir, '--aggregator', server.url, consent, '--jitter', '60'])
        if (code !== 0) process.stderr.write('blockwatch: the local probe could not be set up; the aggregator runs on without it\n')
      }
      if (existsSync(configFile)) {
        const start = (): void => {
          probe = spawn(process.execPath, [BLOCKWATCH, 'probe', 'start', '--config', configFile, '--data-dir', dataDir, '--first-run-within', '30', '--also-measure', `${server.url}/healthz`], {
            stdio: ['ignore', 'pipe', 'inherit']
          })
          relayLogs(probe)
          process.stderr.write(
            `blockwatch: local probe started (config ${configFile}); it runs once within 30 s, then on its schedule; \`blockwatch probe status --config ${configFile} --data-dir ${dataDir}\`\n`
          )
          probe.on('exit', (code, signal) => {
            probe = null
            if (!stopping) process.stderr.write(`blockwatch: the local probe exited (${signal ?? code}); the aggregator runs on\n`)
          })
        }
        start()
      }
    }
    await new Promise<void>(resolve => {
      const stop = (): void => {
        stopping = true
        const p = probe as ChildProcess | null
        const probeDone =
          p === null
            ? Promise.resolve()
            : new Promise<void>(r => {
                p.once('exit', () => r())
                p.kill('SIGTERM')
                setTimeout(() => {
                  p.kill('SIGKILL')
                  r()
                }, 10_000).unref()
              })
        probeDone
          .then(async () => {
            await server.close()
          })
          .then(resolve, resolve)
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
    return 0
  })
}
