/**
 * The measurement model's constants, apart from its schema
 * (shared/src/measurement.ts, which re-exports them): code that only needs a
 * constant, such as the probe's scrubbing, does not load TypeBox with them
 * (docs/benchmarks.md, "Probe footprint").
 */

/** The data_format_version blockwatch's probe writes. */
export const DATA_FORMAT_VERSION = '0.2.0'
/** The probe_ip every stored document carries: the real one is never kept. */
export const SCRUBBED_PROBE_IP = '127.0.0.1'
