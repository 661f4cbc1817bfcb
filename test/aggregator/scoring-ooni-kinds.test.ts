/**
 * shared/src/scoring.ts, the kinds judged by OONI's rules (ooni/backend,
 * fastpath/fastpath/core.py: score_signal, score_stunreachability,
 * score_torsf, score_measurement_whatsapp): one named case per rule, on
 * documents built from OONI's real Signal sample (signal_022.json). A
 * measurement that failed on the probe's side is a failure, not blocking;
 * for STUN a top-level failure is blocking (issue 15).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Measurement } from '../../shared/src/measurement.ts'
import type { FingerprintDb } from '../../shared/src/fingerprints.ts'
import { scoreMeasurement } from '../../shared/src/scoring.ts'
import { OONI_SAMPLES } from '../helpers/paths.ts'

const fp: FingerprintDb = { version: 't', dns: new Map(), http: [] }
const sample = JSON.parse(readFileSync(OONI_SAMPLES + 'signal_022.json', 'utf8')) as Measurement

type Over = { doc?: Record<string, unknown>; tk?: Record<string, unknown>; annotations?: Record<string, unknown>; drop?: string[] }
/** signal_022.json with changes: the document's fields, its test keys, its annotations, and test keys removed. */
function signal(over: Over): Measurement {
  const d = structuredClone(sample) as unknown as Record<string, unknown>
  Object.assign(d, over.doc ?? {})
  const tk = d.test_keys as Record<string, unknown>
  Object.assign(tk, over.tk ?? {})
  for (const k of over.drop ?? []) Reflect.deleteProperty(tk, k)
  d.annotations = { ...(d.annotations as object), ...(over.annotations ?? {}) }
  return d as unknown as Measurement
}
const flags = (d: Measurement): { anomaly: boolean; failure: boolean } => {
  const s = scoreMeasurement(d, fp)
  return { anomaly: s.anomaly, failure: s.failure }
}

// Signal's backend seen blocked, from software OONI trusts for that date: real
// blocking. Software OONI knows to be wrong on that date: a failure, judged
// no further (OONI returns before reading the status).
const blockedTk = { signal_backend_status: 'blocked', signal_backend_failure: 'ssl_unknown_authority' }

const cases: Array<[string, Measurement, { anomaly: boolean; failure: boolean }]> = [
  ['signalOk (the sample as published)', signal({}), { anomaly: false, failure: false }],
  ['signalBlocked', signal({ tk: blockedTk }), { anomaly: true, failure: false }],
  // The two measurements of issue 15: ooniprobe-desktop 3.14.1 ran Signal 0.2.1
  // after Signal changed its certificate (ooni/probe#2344) ...
  [
    'signalOldTestAfterCertChangeIsFailure',
    signal({
      doc: { software_name: 'ooniprobe-desktop', software_version: '3.14.1', test_version: '0.2.1', measurement_start_time: '2022-11-18 10:44:20' },
      annotations: { engine_version: '3.14.1' },
      tk: blockedTk
    }),
    { anomaly: false, failure: true }
  ],
  [
    'signalOldTestBeforeCertChange',
    signal({
      doc: { test_version: '0.2.1', measurement_start_time: '2022-10-18 23:59:59' },
      tk: blockedTk
    }),
    { anomaly: true, failure: false }
  ],
  // ... and an engine before 3.17.2 after 2023-05-02 (ooni/backend#679).
  [
    'signalOldEngineDnsCacheIsFailure',
    signal({
      doc: { software_name: 'ooniprobe-desktop', software_version: '3.14.1', test_version: '0.2.3', measurement_start_time: '2023-06-01 08:00:00' },
      annotations: { engine_version: '3.17.1' },
      tk: { signal_backend_status: 'blocked', signal_backend_failure: 'android_dns_cache_no_data' }
    }),
    { anomaly: false, failure: true }
  ],
  [
    'signalEngine3172IsTrusted',
    signal({
      doc: { test_version: '0.2.3', measurement_start_time: '2023-06-01 08:00:00' },
      annotations: { engine_version: '3.17.2' },
      tk: blockedTk
    }),
    { anomaly: true, failure: false }
  ],
  [
    'signalEnginePreReleaseSortsBefore',
    signal({
      doc: { test_version: '0.2.3', measurement_start_time: '2023-06-01 08:00:00' },
      annotations: { engine_version: '3.17.2-alpha' },
      tk: blockedTk
    }),
    { anomaly: false, failure: true }
  ],
  [
    'signalEngineMissingCountsAsOld',
    signal({
      doc: { test_version: '0.2.3', measurement_start_time: '2023-06-01 08:00:00' },
      annotations: { engine_version: undefined },
      tk: blockedTk
    }),
    { anomaly: false, failure: true }
  ],
  ['signalTest024IsFailure', signal({ doc: { test_version: '0.2.4' }, tk: blockedTk }), { anomaly: false, failure: true }],
  [
    'signalTest023AfterNov2023IsFailure',
    signal({
      doc: { test_version: '0.2.3', measurement_start_time: '2023-11-07 00:00:00' },
      annotations: { engine_version: '3.19.0' },
      tk: blockedTk
    }),
    { anomaly: false, failure: true }
  ],
  [
    'signalTest025AfterNov2023',
    signal({
      doc: { test_version: '0.2.5', measurement_start_time: '2023-11-07 00:00:00' },
      annotations: { engine_version: '3.19.0' },
      tk: blockedTk
    }),
    { anomaly: true, failure: false }
  ],
  ['signalTopLevelFailureIsFailure', signal({ tk: { ...blockedTk, failure: 'ssl_unknown_authority', failed_operation: 'tls_handshake' } }), { anomaly: true, failure: true }],
  ['signalFailedOperationMissingIsFailure', signal({ tk: blockedTk, drop: ['failed_operation'] }), { anomaly: true, failure: true }],
  ['signalFailureMissingIsFailure', signal({ drop: ['failure'] }), { anomaly: false, failure: true }],
  ['signalEmptyFailureIsNone', signal({ tk: { failure: '' } }), { anomaly: false, failure: false }],
  ['signalNoStartTimeIsFailure', signal({ doc: { measurement_start_time: null } }), { anomaly: false, failure: true }],
  ['signalBadStartTimeIsFailure', signal({ doc: { measurement_start_time: '2022-11-18T10:44:20Z' } }), { anomaly: false, failure: true }],
  ['signalBadVersionIsFailure', signal({ doc: { test_version: 'x.y' } }), { anomaly: false, failure: true }],
  ['signalUnknownStatusIsFailure', signal({ tk: { signal_backend_status: 'weird' } }), { anomaly: false, failure: true }],
  // STUN: a top-level failure is blocking, not a probe failure.
  ['stunFailureIsBlocking', signal({ doc: { test_name: 'stunreachability' }, tk: { failure: 'generic_timeout_error' } }), { anomaly: true, failure: false }],
  ['stunOk', signal({ doc: { test_name: 'stunreachability' }, tk: { failure: null } }), { anomaly: false, failure: false }],
  // Tor Snowflake: one buggy Android release is a failure, else a failure is blocking.
  ['torsfFailureIsBlocking', signal({ doc: { test_name: 'torsf' }, tk: { failure: 'generic_timeout_error' } }), { anomaly: true, failure: false }],
  [
    'torsfAndroid383IsFailure',
    signal({ doc: { test_name: 'torsf', software_name: 'ooniprobe-android', software_version: '3.8.3' }, tk: { failure: 'generic_timeout_error' } }),
    { anomaly: false, failure: true }
  ],
  // WhatsApp: a web failure OONI knows as a probe bug is judged no further.
  [
    'whatsappAsciiBugIsFailureOnly',
    signal({
      doc: { test_name: 'whatsapp' },
      tk: {
        whatsapp_web_failure: "unknown_failure 'ascii' codec can't decode",
        requests: [
          { request: { url: 'https://web.whatsapp.com/' }, failure: 'x' },
          { request: { url: 'https://v.whatsapp.net/v2/register' }, failure: null }
        ]
      }
    }),
    { anomaly: false, failure: true }
  ],
  [
    'whatsappWebFailureIsBlocking',
    signal({
      doc: { test_name: 'whatsapp' },
      tk: {
        requests: [
          { request: { url: 'https://web.whatsapp.com/' }, failure: 'connection_reset' },
          { request: { url: 'https://v.whatsapp.net/v2/register' }, failure: null }
        ]
      }
    }),
    { anomaly: true, failure: false }
  ]
]
for (const [name, d, want] of cases) t.same(flags(d), want, name)
