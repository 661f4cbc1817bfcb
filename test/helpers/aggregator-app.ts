/**
 * An aggregator app on a fresh database for one test file, with OONI's
 * fingerprints loaded, plus small helpers to register probes and build
 * measurements. Owned by the aggregator tests (test/aggregator/).
 */
import type { FastifyInstance } from 'fastify'
import type { FingerprintDb } from '../../shared/src/fingerprints.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { uuidv7 } from '../../shared/src/uid.ts'
import { build, type AppOptions } from '../../aggregator/src/app.ts'
import { testKeys } from '../../aggregator/src/simulate/docs.ts'
import type { Technique } from '../../aggregator/src/simulate/scenario.ts'
import { freshDb, type TestDb } from './db.ts'
import { FINGERPRINTS } from './paths.ts'

let fpCache: Promise<FingerprintDb> | undefined
/** OONI's fingerprints from ../shared/data, loaded once per process. */
export const ooniFingerprints = async (): Promise<FingerprintDb> => await (fpCache ??= loadFingerprintsDir(FINGERPRINTS, 'ooni-test'))

export interface TestApp {
  app: FastifyInstance
  tdb: TestDb
}

/** Builds an app on a fresh migrated database. Close it with `await close()` in t.teardown. */
export async function testApp(opts: Partial<AppOptions> = {}, tdb?: TestDb): Promise<TestApp & { close: () => Promise<void> }> {
  const db = tdb ?? (await freshDb())
  const app = await build({ db: db.db, publicUrl: 'https://bw.example.org', adminToken: 'admin-secret', fingerprints: await ooniFingerprints(), jobs: false, ...opts })
  await app.ready()
  return {
    app,
    tdb: db,
    close: async () => {
      await app.close()
      if (tdb === undefined) await db.close()
    }
  }
}

/** Registers a probe through the API; returns its id and token. */
export async function registerProbe(app: FastifyInstance, probeId?: string): Promise<{ probe_id: string; token: string }> {
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1/probes/register',
    payload: { software_name: 'blockwatch', software_version: '0.1.0', ...(probeId !== undefined ? { probe_id: probeId } : {}) }
  })
  if (r.statusCode !== 201) throw new Error(`register: ${r.statusCode} ${r.body}`)
  return r.json()
}

/**
 * web_connectivity test keys with the evidence our verdict code judges (the
 * simulator's: DNS, TCP, HTTP and the control), for a healthy target or one
 * blocked by a technique. Ingest judges the evidence, never the document's
 * own blocking/accessible keys.
 */
export function webKeys(input: string, technique?: Technique): Record<string, unknown> {
  return testKeys(input, { probe: 0, target: 0, t: 0, upload: 0, outcome: technique === undefined ? { kind: 'ok' } : { kind: 'blocked', technique } })
}

/** A valid web_connectivity measurement (no blocking, unless test_keys say otherwise) for a probe. */
export function sampleMeasurement(probeId: string | null, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now()
  const input = typeof over.input === 'string' ? over.input : 'https://www.example.org/'
  return {
    data_format_version: '0.2.0',
    measurement_uid: uuidv7(now),
    measurement_start_time: formatOoniTime(now - 3600_000),
    test_start_time: formatOoniTime(now - 3600_000),
    probe_cc: 'IR',
    probe_asn: 'AS197207',
    probe_ip: '203.0.113.9',
    ...(probeId !== null ? { probe_id: probeId } : {}),
    report_id: 'r1',
    input: 'https://www.example.org/',
    test_name: 'web_connectivity',
    test_version: '0.1.0',
    software_name: 'othersoft',
    software_version: '1.0',
    annotations: { category_code: 'NEWS' },
    test_keys: webKeys(input),
    ...over
  }
}
