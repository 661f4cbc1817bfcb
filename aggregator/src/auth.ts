/**
 * Tokens: probe tokens (minted at registration, stored only as SHA-256,
 * revocable) and the admin token (ADMIN_TOKEN), compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Queryable } from './store/db.ts'
import { forbidden, unauthorized } from './errors.ts'
import { probeByTokenHash } from './store/probes.ts'

/** Mints a probe token: 32 random bytes, base64url, with a prefix that says what it is. */
export const mintToken = (): string => 'bwp_' + randomBytes(32).toString('base64url')

/** The stored form of a token. Tokens are random, so a plain SHA-256 suffices (no password stretching). */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

/** The bearer token of a request, or null. */
export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization
  if (typeof h !== 'string') return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m === null ? null : m[1]
}

/** The probe a request's token belongs to. Throws 401 when it has none or an unknown one, 403 when revoked. */
export async function authenticateProbe(db: Queryable, req: FastifyRequest): Promise<string> {
  const token = bearerToken(req)
  if (token === null) throw unauthorized('this endpoint needs a probe token: send "Authorization: Bearer <token>" (POST /api/v1/probes/register gives one)')
  const probe = await probeByTokenHash(db, hashToken(token))
  if (probe === undefined) throw unauthorized('unknown probe token; register again with POST /api/v1/probes/register')
  if (probe.revoked) throw forbidden(`probe ${probe.probe_id} was revoked; its token is refused`)
  return probe.probe_id
}

/** Throws unless the request carries the admin token. With no admin token configured, admin routes refuse everyone. */
export function requireAdmin(adminToken: string | undefined, req: FastifyRequest): void {
  const token = bearerToken(req)
  if (token === null) throw unauthorized('this endpoint needs the admin token: send "Authorization: Bearer <ADMIN_TOKEN>"')
  if (adminToken === undefined || adminToken === '') throw forbidden('admin routes are disabled: the server was started without ADMIN_TOKEN')
  const a = Buffer.from(hashToken(token), 'hex')
  const b = Buffer.from(hashToken(adminToken), 'hex')
  if (!timingSafeEqual(a, b)) throw forbidden('this token is not the admin token')
}
