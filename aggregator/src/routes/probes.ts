/**
 * Probe accounts: registration (open), check-in (probe token) and
 * revocation (admin token). See docs/api.md.
 *
 * Check-in derives the probe's country and network from the connection's
 * address with an offline database; the address is looked up and dropped,
 * never stored or logged.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { authenticateProbe, hashToken, mintToken, requireAdmin } from '../auth.ts'
import { AggError, notFound } from '../errors.ts'
import { offlineGeoLookup } from '../geoip.ts'
import { insertProbe, listProbes, recordCheckIn, registerAgain, revokeProbe } from '../store/probes.ts'
import { targetListsNamed } from '../store/target-lists.ts'

const PROBE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'
const TEXT = (max: number) => ({ type: 'string', minLength: 1, maxLength: max })

/** How often probes are asked to check in again. */
export const CHECK_IN_INTERVAL_S = 3600

export default async function probesRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  const geo = opts.geoLookup ?? offlineGeoLookup
  const openLimit = opts.rateLimits?.probes ?? { max: 60, timeWindow: '1 minute' }

  app.post(
    '/api/v1/probes/register',
    {
      config: { rateLimit: openLimit },
      schema: {
        summary: 'Register a probe; answers its probe_id and token (shown once)',
        tags: ['probes'],
        body: {
          type: 'object',
          required: ['software_name', 'software_version'],
          additionalProperties: false,
          properties: {
            probe_id: { type: 'string', pattern: PROBE_ID_PATTERN },
            registration_id: {
              type: 'string',
              pattern: '^[A-Za-z0-9_-]{16,128}$',
              description: 'chosen by the probe (a random UUID) and sent again with each retry: a retry gets the same probe_id, with a new token, until the probe first uses its token'
            },
            software_name: TEXT(64),
            software_version: TEXT(64),
            platform: TEXT(64)
          }
        },
        response: { 201: { type: 'object', properties: { probe_id: { type: 'string' }, token: { type: 'string' } } } }
      }
    },
    async (req, reply) => {
      const body = req.body as { probe_id?: string; registration_id?: string; software_name: string; software_version: string; platform?: string }
      const probeId = body.probe_id ?? randomUUID()
      const token = mintToken()
      const registrationHash = body.registration_id === undefined ? null : hashToken(body.registration_id)
      // The network the registration came from (the address is looked up and
      // dropped): probes registered together from one network count as one
      // source for events, whatever networks they later claim (issue 9).
      const registeredAsn = geo(req.socket.remoteAddress ?? '').probe_asn
      // A registration tried again after its answer was lost: the same probe, with a new token (the
      // first never arrived). Twice: an attempt still in flight commits its row while this one waits.
      for (let attempt = 0; attempt < 2; attempt++) {
        if (registrationHash !== null) {
          const again = await registerAgain(app.db, registrationHash, hashToken(token))
          if (again === 'used') {
            throw new AggError('AGG_ERR_PROBE_EXISTS', 409, "registration_id: its probe is registered and already in use; register with a new registration_id, or use that probe's token", {
              field: 'registration_id'
            })
          }
          if (again !== null) return await reply.code(201).send({ probe_id: again.probe_id, token })
        }
        const stored = await insertProbe(app.db, {
          probe_id: probeId,
          token_hash: hashToken(token),
          software_name: body.software_name,
          software_version: body.software_version,
          platform: body.platform ?? null,
          registered_asn: registeredAsn,
          registration_hash: registrationHash
        })
        if (stored) return await reply.code(201).send({ probe_id: probeId, token })
        if (registrationHash === null) break
      }
      throw new AggError('AGG_ERR_PROBE_EXISTS', 409, `probe_id: ${probeId} is already registered; register without probe_id to get a new one, or use that probe's token`, { field: 'probe_id' })
    }
  )

  app.post(
    '/api/v1/check-in',
    {
      config: { rateLimit: openLimit },
      schema: {
        summary: 'Check in (probe token): where the probe is, the server time, its target lists',
        tags: ['probes'],
        body: {
          type: ['object', 'null'],
          additionalProperties: true,
          properties: {
            probe_cc: { type: 'string', pattern: '^[A-Z]{2}$' },
            probe_asn: { type: 'string', pattern: '^AS\\d{1,10}$' },
            software_name: TEXT(64),
            software_version: TEXT(64),
            platform: TEXT(64),
            pending_uploads: {
              type: 'object',
              additionalProperties: true,
              properties: { measurements: { type: 'integer', minimum: 0 }, bytes: { type: 'integer', minimum: 0 } }
            }
          }
        }
      }
    },
    async req => {
      const probeId = await authenticateProbe(app.db, req)
      const body = (req.body ?? {}) as {
        probe_cc?: string
        probe_asn?: string
        software_name?: string
        software_version?: string
        platform?: string
        pending_uploads?: { measurements?: number; bytes?: number }
      }
      // The socket's own address: trustProxy is off, so no header can claim another.
      const address = (req.socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')
      const found = geo(address)
      const probeCc = found.probe_cc ?? body.probe_cc ?? 'ZZ'
      const probeAsn = found.probe_asn ?? body.probe_asn ?? 'AS0'
      await recordCheckIn(app.db, probeId, {
        probe_cc: probeCc,
        probe_asn: probeAsn,
        pending_measurements: body.pending_uploads?.measurements ?? null,
        pending_bytes: body.pending_uploads?.bytes ?? null,
        software_name: body.software_name ?? null,
        software_version: body.software_version ?? null,
        platform: body.platform ?? null
      })
      const targetLists: Record<string, unknown> = {}
      for (const l of await targetListsNamed(app.db, ['global', probeCc])) {
        targetLists[l.name] = { version: l.version, rows: l.rows, updated_at: l.updated_at, url: `${opts.publicUrl}/api/v1/target-lists/${l.name}` }
      }
      return {
        probe_id: probeId,
        probe_cc: probeCc,
        probe_asn: probeAsn,
        network_name: found.network_name,
        geo_source: found.probe_cc !== null ? 'connection' : body.probe_cc !== undefined ? 'probe' : 'unknown',
        // Told to the probe only, so that it can scrub its own public address
        // from what it measures; the server keeps no copy.
        probe_ip: address === '' ? null : address,
        server_time: new Date(app.clock()).toISOString(),
        target_lists: targetLists,
        upload_url: `${opts.publicUrl}/api/v1/measurements`,
        next_check_in_s: CHECK_IN_INTERVAL_S
      }
    }
  )

  app.post(
    '/api/v1/admin/probes/:probe_id/revoke',
    {
      schema: {
        summary: 'Revoke a probe (admin token): its token is refused from now on',
        tags: ['admin'],
        params: { type: 'object', properties: { probe_id: { type: 'string', maxLength: 128 } } }
      }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { probe_id: probeId } = req.params as { probe_id: string }
      const revokedAt = await revokeProbe(app.db, probeId)
      if (revokedAt === null) throw notFound(`probe_id: no probe ${JSON.stringify(probeId)}`)
      return { probe_id: probeId, revoked_at: revokedAt.toISOString() }
    }
  )

  app.get(
    '/api/v1/admin/probes',
    {
      schema: { summary: 'List probes (admin token), with their pending uploads', tags: ['admin'] }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      return { results: await listProbes(app.db) }
    }
  )
}
