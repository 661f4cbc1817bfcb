// Loaded into every test process (tap's "node-arg" in package.json), after
// tap's own --import of @tapjs/processinfo.
//
// TypeScript: `npm test` runs the tests as tsc compiled them into
// .build/test/ (scripts/build.js), so no loader is needed there, and tsx's
// costs 0.5-1.5 s of CPU a test process (its loader thread, and a cache
// lookup for every module: an app-sized import graph is 600 modules). A
// test file run by hand (`npx tap test/x.test.ts`) and tap's "after" script
// are TypeScript: tsx is registered for those only.
//
// Processinfo: that module records, for
// coverage, every process a test starts: it adds itself to each child's
// NODE_OPTIONS, so every `blockwatch` process a test starts loaded it too
// and measured the line lengths of each module it loaded (about 0.3-0.5 s
// of CPU a process, and the suite starts hundreds). Coverage is off in this
// project's tap config, so the children are left out: the spawn hook is
// removed and the option taken out of the environment they inherit. The
// test process itself keeps it (tap puts it on its command line), but
// without its loader hook: see tap-preload.mjs, which is taken out of the
// children's NODE_OPTIONS here too (its path is relative to the repository,
// and a child may run elsewhere).
import { createRequire } from 'node:module'

if (process.argv[1]?.endsWith('.ts')) await import('tsx')

try {
  const require = createRequire(import.meta.resolve('@tapjs/processinfo'))
  require('process-on-spawn').removeAllListeners()
} catch {
  // Another tap layout: the children keep processinfo, which costs only time.
}
const options = process.env.NODE_OPTIONS
if (options !== undefined) {
  process.env.NODE_OPTIONS = options
    .replace(/"?--(?:import|loader|experimental-loader)[= ]"?[^\s"]*@tapjs\/processinfo[^\s"]*"?/g, '')
    .replace(/"?--import[= ]"?[^\s"]*tap-preload\.mjs"?/g, '')
    .trim()
}
