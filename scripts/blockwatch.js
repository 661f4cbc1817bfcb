#!/usr/bin/env node
// The `blockwatch` command: registers the TypeScript loader (tsx), then hands
// the arguments to the side they name. Each side is loaded on demand, so a
// probe never loads the aggregator's modules (fastify, PGlite).
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./cli.ts')
process.exitCode = await main(process.argv.slice(2))
