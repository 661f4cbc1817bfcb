// What each part of `blockwatch-probe start` costs in memory (issue 17;
// docs/benchmarks.md, "Probe footprint"), in an installed package:
//
//   node --expose-gc scripts/bench/footprint-breakdown.mjs PREFIX [--count]
//
// One process loads, in the order a `start` of before the lazy loading did,
// each group of modules and does what start does with it (a translator,
// an open outbox, two cron schedules), collecting garbage between steps. For
// each step: what grew of the resident memory (anonymous memory; pages of
// the Node binary, whose code and ICU data are mapped from the file; other
// files: libraries and better-sqlite3's .node), and of the V8 heap in use.
// With --count, a resolve hook (on its own thread, so not with the memory
// figures) counts the modules each step loads instead. Plain JavaScript: it
// runs the installed package's compiled code with no TypeScript loader.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire, Module, register } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [prefix, mode] = process.argv.slice(2)
if (prefix === undefined || (mode !== undefined && mode !== '--count') || typeof globalThis.gc !== 'function') {
  process.stderr.write('usage: node --expose-gc scripts/bench/footprint-breakdown.mjs PREFIX [--count]\n')
  process.exit(2)
}
const pkg = join(prefix, 'lib/node_modules/blockwatch-probe')
const dist = pathToFileURL(join(pkg, 'dist/')).href
const require = createRequire(join(pkg, 'dist/package.json'))
const dep = name => pathToFileURL(require.resolve(name)).href

const work = mkdtempSync(join(tmpdir(), 'bw-breakdown-'))
let seen = null
if (mode === '--count') {
  seen = join(work, 'modules.txt')
  writeFileSync(seen, '')
  const hook = join(work, 'hook.mjs')
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs'\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(seen)}, r.url + '\\n'); return r }\n`
  )
  register(pathToFileURL(hook).href)
  // CommonJS packages (pino, undici) load their files through require, which the hook does not see.
  const load = Module._load
  Module._load = function (request, parent, isMain, ...rest) {
    try {
      appendFileSync(seen, `${Module._resolveFilename(request, parent, isMain)}\n`)
    } catch {}
    return load.call(this, request, parent, isMain, ...rest)
  }
}
// A CommonJS module imported from ESM passes both hooks: paths are made URLs, so it counts once.
const counted = () =>
  seen === null
    ? 0
    : new Set(
        readFileSync(seen, 'utf8')
          .split('\n')
          .filter(l => l.startsWith('/') || l.startsWith('file:'))
          .map(l => (l.startsWith('/') ? pathToFileURL(l).href : l))
      ).size

/** Resident memory by kind, MiB, and the V8 heap in use, after two collections. */
function memory() {
  globalThis.gc()
  globalThis.gc()
  let kind = 'anon'
  const m = { anon: 0, node: 0, files: 0 }
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head !== null) kind = head[1] === '' || head[1].startsWith('[') ? 'anon' : head[1] === process.execPath ? 'node' : 'files'
    else if (line.startsWith('Rss:')) m[kind] += Number(line.split(/\s+/)[1]) / 1024
  }
  return { ...m, heap: process.memoryUsage().heapUsed / (1024 * 1024) }
}

const config = join(work, 'probe.json')
writeFileSync(config, JSON.stringify({ aggregatorUrl: 'http://127.0.0.1:9', consent: { given: true, textVersion: 1, at: new Date().toISOString() }, dataDir: join(work, 'state') }))
let cfg
let outbox
let scheduler
const abort = new AbortController()
const steps = [
  ['Node alone', async () => {}],
  [
    'cli, i18n, i18next, four catalogues, a translator',
    async () => {
      const i18n = await import(`${dist}probe/src/i18n/index.js`)
      await (i18n.loadAllCatalogues ?? (async () => {}))()
      for (const l of i18n.LANGUAGES) {
        await (i18n.loadCatalogue ?? (async () => {}))(l)
        i18n.translator(l)('help.probe')
      }
      await import(`${dist}probe/src/cli.js`)
    }
  ],
  [
    'pino, a JSON logger',
    async () => {
      const pino = (await import(dep('pino'))).default
      pino({ level: 'info' }, { write() {} }).info({ a: 1 }, 'x')
    }
  ],
  ['pino-pretty', async () => await import(dep('pino-pretty'))],
  [
    'config, check-in, upload (node:http, https)',
    async () => {
      const c = await import(`${dist}probe/src/config.js`)
      cfg = c.loadLocated({ config }, {})
      await import(`${dist}probe/src/checkin.js`)
      await import(`${dist}probe/src/upload/uploader.js`)
    }
  ],
  [
    'better-sqlite3, the outbox open',
    async () => {
      const { Outbox } = await import(`${dist}probe/src/outbox/outbox.js`)
      outbox = Outbox.open(cfg.dataDir, { maxBytes: 1e8 })
      outbox.stats()
    }
  ],
  [
    // Before f1a4f38, node-cron's scheduler found each next run by formatting dates with Intl.DateTimeFormat (ICU's data).
    'the scheduler, two schedules (node-cron parses)',
    async () => {
      const s = await import(`${dist}probe/src/schedule.js`)
      const log = { info() {}, warn() {}, error() {}, debug() {} }
      scheduler = s.startScheduler({ cfg, outbox, logger: log, http: {}, measure: async function* () {}, signal: abort.signal }, abort)
      scheduler.nextRuns()
    }
  ],
  [
    'proxy agents (socks, http, https)',
    async () => {
      await import(dep('socks-proxy-agent'))
      await import(dep('http-proxy-agent'))
      await import(dep('https-proxy-agent'))
    }
  ],
  ['undici', async () => await import(dep('undici'))],
  [
    'the measurement model (TypeBox, when its schemas are built at load)',
    // As the probe loads it. Before 37d11fa it built its schemas, and so loaded TypeBox, when loaded; after, at first use, which the probe never makes.
    async () => await import(`${dist}shared/src/measurement.js`)
  ],
  ['the engine: nettests, netx, verdict, smpp, dns-packet', async () => await import(`${dist}probe/src/engine.js`)]
]
const rows = []
let before = memory()
let modules = counted()
for (const [name, step] of steps) {
  await step()
  const now = memory()
  const n = counted()
  rows.push({
    step: name,
    ...(seen !== null ? { modules: n - modules } : {}),
    anon_mb: +(now.anon - before.anon).toFixed(1),
    node_binary_mb: +(now.node - before.node).toFixed(1),
    other_files_mb: +(now.files - before.files).toFixed(1),
    heap_mb: +(now.heap - before.heap).toFixed(1),
    total_mb: +(now.anon + now.node + now.files).toFixed(1)
  })
  before = now
  modules = n
}
await scheduler.stop()
outbox.close()
rmSync(work, { recursive: true, force: true })
process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`)
