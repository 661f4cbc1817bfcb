/**
 * Webhook signatures (docs/api.md, "Webhooks"): HMAC-SHA256 with the
 * webhook's secret over the delivery's timestamp, a dot, and the exact body
 * bytes, sent as `Blockwatch-Signature: sha256=<hex>`. Signing the timestamp
 * with the body lets a receiver refuse an old delivery replayed by someone
 * who recorded it.
 */
import { createHmac, randomBytes } from 'node:crypto'

/** The header names of a delivery. */
export const HEADERS = Object.freeze({
  delivery: 'blockwatch-delivery',
  event: 'blockwatch-event',
  timestamp: 'blockwatch-timestamp',
  signature: 'blockwatch-signature'
})

/** The signature header's value: `sha256=` and the hex HMAC-SHA256 of `timestamp + "." + body`. */
export function signature(secret: string, timestamp: string, body: string): string {
  return (
    'sha256=' +
    createHmac('sha256', secret)
      .update(timestamp + '.' + body)
      .digest('hex')
  )
}

/** A new webhook secret: 32 random bytes, base64url, with a prefix that says what it is. */
export const mintSecret = (): string => 'whsec_' + randomBytes(32).toString('base64url')
