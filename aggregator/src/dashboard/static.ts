/**
 * The dashboard's static files: our own CSS and scripts (static/ next to
 * this file), the palette's stylesheet (made from present/palette.ts) and
 * uPlot straight from node_modules, so that the dashboard needs no build
 * step and no CDN and works offline.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { paletteCss } from '../present/palette.ts'

/** Where the dashboard's static files are served. */
export const STATIC_PREFIX = '/dashboard/static/'

const require = createRequire(import.meta.url)
const ownDir = fileURLToPath(new URL('./static/', import.meta.url))

/** The files served, by name: where each one is read from (or how it is made), and its type. */
const FILES: Record<string, { path?: () => string; make?: () => string; type: string }> = {
  // The one palette's colours as custom properties, which dashboard.css uses.
  'palette.css': { make: paletteCss, type: 'text/css; charset=utf-8' },
  'dashboard.css': { path: () => ownDir + 'dashboard.css', type: 'text/css; charset=utf-8' },
  'country.js': { path: () => ownDir + 'country.js', type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' }
}

/** Registers GET {STATIC_PREFIX}:name. Files are read once, on first use. */
export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const cache = new Map<string, Buffer>()
  app.get<{ Params: { name: string } }>(STATIC_PREFIX + ':name', async (req, reply) => {
    const file = FILES[req.params.name]
    if (file === undefined || !Object.hasOwn(FILES, req.params.name)) {
      return await reply.code(404).type('text/plain; charset=utf-8').send('no such file')
    }
    let body = cache.get(req.params.name)
    if (body === undefined) {
      body = file.make !== undefined ? Buffer.from(file.make(), 'utf8') : readFileSync(file.path!())
      cache.set(req.params.name, body)
    }
    return await reply.header('content-type', file.type).header('cache-control', 'public, max-age=300').header('x-content-type-options', 'nosniff').send(body)
  })
}
