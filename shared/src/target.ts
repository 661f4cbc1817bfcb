/**
 * Targets: the URL schemes a target list may use (each nettest kind
 * declares its own: shared/src/nettests), and how a target's `domain` is
 * derived from its `input`.
 */
import { knownSchemes, nettestForScheme } from './nettests/index.ts'

/** The schemes a target-list row may use. */
export function targetSchemes(): string[] {
  return knownSchemes()
}

/** Whether a scheme's URL must carry a port (its kind declares no default). */
export function schemeNeedsPort(scheme: string): boolean {
  return nettestForScheme(scheme)?.plan.defaultPort === null
}

/**
 * The host name of a target, whatever its scheme (https://, dns://, smpp://…),
 * lower-cased and without IPv6 brackets. Returns null when the input has no host.
 */
export function domainOf(input: string | null | undefined): string | null {
  if (typeof input !== 'string' || input === '') return null
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return null
  }
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase()
  return host === '' ? null : host
}

/** The test that measures a target URL, or null when its scheme is not one of ours. */
export function testNameFor(input: string): string | null {
  try {
    return nettestForScheme(new URL(input).protocol)?.kind.name ?? null
  } catch {
    return null
  }
}
