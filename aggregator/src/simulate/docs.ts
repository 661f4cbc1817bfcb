/**
 * Simulated measurement documents: web_connectivity measurements in OONI's
 * data format (df-000-base); their test_keys are the kind's simulator
 * document (shared/src/nettests/web-connectivity-sim.ts).
 *
 * They carry software_name "blockwatch-simulate": scoring keeps the verdict
 * a document carries for software other than our probe (as OONI's pipeline
 * does) and matches DNS answers and bodies against the blockpage
 * fingerprints, so a national blockpage answer scores as confirmed.
 */
import { createHash } from 'node:crypto'
import { nettestFor } from '../../../shared/src/nettests/index.ts'
import type { SimDoc } from '../../../shared/src/nettests/kind.ts'
import { DATA_FORMAT_VERSION, SCRUBBED_PROBE_IP, type Measurement } from '../../../shared/src/measurement.ts'
import { formatOoniTime } from '../../../shared/src/time.ts'
import { SOFTWARE_VERSION } from '../../../shared/src/software.ts'
import type { PlanItem, SimProbe } from './generate.ts'
import type { Scenario } from './scenario.ts'

/** The kind the simulator makes. */
const SIM_TEST_NAME = 'web_connectivity'

/** The software name of simulated documents. */
export const SIM_SOFTWARE_NAME = 'blockwatch-simulate'

/** A deterministic UUIDv7-shaped uid: the measurement time, then hash bits. */
export function simUid(scenario: string, seed: number, item: PlanItem): string {
  const h = createHash('sha256').update(`${scenario}\0${seed}\0${item.probe}\0${item.target}\0${item.t}`).digest()
  const ms = BigInt(item.t)
  for (let i = 0; i < 6; i++) h[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn)
  h[6] = (h[6] & 0x0f) | 0x70
  h[8] = (h[8] & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

/** The test_keys of one planned measurement (the kind's simulator document, shared/src/nettests). */
export function testKeys(input: string, item: PlanItem): Record<string, unknown> {
  return simulated().testKeys(input, item.outcome)
}

/** The simulator's document of web_connectivity, the one kind it makes. */
function simulated(): SimDoc {
  const sim = nettestFor(SIM_TEST_NAME)?.simulate
  if (sim === undefined) throw new Error(`${SIM_TEST_NAME} declares no simulator document`)
  return sim
}

/** Builds the document of one planned measurement. */
export function buildDoc(s: Scenario, probe: SimProbe, probeId: string, item: PlanItem): Measurement {
  const { input, category_code: category } = s.targets[item.target]
  const start = formatOoniTime(item.t)
  const day = start.slice(0, 10).replace(/-/g, '')
  const doc: Measurement = {
    data_format_version: DATA_FORMAT_VERSION,
    measurement_uid: simUid(s.name, s.seed ?? 1, item),
    measurement_start_time: start,
    test_start_time: start,
    probe_cc: probe.cc,
    probe_asn: probe.asn,
    probe_network_name: probe.network_name,
    probe_ip: SCRUBBED_PROBE_IP,
    probe_id: probeId,
    report_id: `${day}T000000Z_webconnectivity_${probe.cc}_${probe.asn.slice(2)}_n1_sim${probe.index}`,
    input,
    test_name: SIM_TEST_NAME,
    test_version: simulated().testVersion,
    test_runtime: 1.2,
    resolver_ip: '91.99.101.12',
    resolver_asn: probe.asn,
    resolver_network_name: probe.network_name,
    software_name: SIM_SOFTWARE_NAME,
    software_version: SOFTWARE_VERSION,
    annotations: { simulated: 'true', scenario: s.name, ...(category !== undefined ? { category_code: category } : {}) },
    test_keys: testKeys(input, item)
  }
  if (probe.region !== null) doc.probe_region = probe.region
  return doc
}
