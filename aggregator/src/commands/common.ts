/**
 * What the offline subcommands (import, import-ooni, rescore) share: the
 * database and fingerprint list the server would use, and a progress bar.
 */
import type { FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { loadFingerprintsDir } from '../../../shared/src/netx/fingerprints.ts'
import type { ServerConfig } from '../config.ts'
import { openDatabase, type Database } from '../store/db.ts'
import { migrate } from '../store/migrate.ts'
import { fingerprintSource } from '../fingerprint-source.ts'

/** Opens and migrates the configured database, and reads the fingerprint list scoring uses. */
export async function openForCommand(cfg: Readonly<ServerConfig>): Promise<{ db: Database; fingerprints: FingerprintDb; applied: number[] }> {
  const db = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir })
  try {
    const applied = await migrate(db)
    const fallback = cfg.fingerprintsDir !== '' ? await loadFingerprintsDir(cfg.fingerprintsDir, `dir:${cfg.fingerprintsDir}`) : undefined
    const fingerprints = await fingerprintSource(db, fallback).get()
    return { db, fingerprints, applied }
  } catch (err) {
    await db.close()
    throw err
  }
}

/** A progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
export class ProgressBar {
  readonly #tty: boolean
  readonly #out: NodeJS.WriteStream
  #last = 0
  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out
    this.#tty = out.isTTY === true
  }

  /** Shows `fraction` (0…1) done and a status text. */
  update(fraction: number, status: string, force = false): void {
    const now = Date.now()
    if (!force && now - this.#last < (this.#tty ? 100 : 5000)) return
    this.#last = now
    const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0))
    const width = 30
    const done = Math.round(f * width)
    const line = `[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${(f * 100).toFixed(0).padStart(3)}% ${status}`
    this.#out.write(this.#tty ? `\r${line}\x1b[K` : line + '\n')
  }

  /** Writes a line of its own (an error, a summary), above the bar on a terminal. */
  note(text: string): void {
    this.#out.write(this.#tty ? `\r\x1b[K${text}\n` : text + '\n')
    this.#last = 0
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.#tty) this.#out.write('\n')
  }
}
