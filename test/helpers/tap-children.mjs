// Loaded into every test process (tap's "node-arg" in package.json), after
// tap's own --import of @tapjs/processinfo. That module records, for
// coverage, every process a test starts: it adds itself to each child's
// NODE_OPTIONS, so every `blockwatch` process a test starts loaded it too
// and measured the line lengths of each module it loaded (about 0.3-0.5 s
// of CPU a process, and the suite starts hundreds). Coverage is off in this
// project's tap config, so the children are left out: the spawn hook is
// removed and the option taken out of the environment they inherit. The
// test process itself keeps it (tap puts it on its command line).
import { createRequire } from 'node:module'

try {
  const require = createRequire(import.meta.resolve('@tapjs/processinfo'))
  require('process-on-spawn').removeAllListeners()
} catch {
  // Another tap layout: the children keep processinfo, which costs only time.
}
const options = process.env.NODE_OPTIONS
if (options !== undefined) {
  process.env.NODE_OPTIONS = options.replace(/"?--(?:import|loader|experimental-loader)[= ]"?[^\s"]*@tapjs\/processinfo[^\s"]*"?/g, '').trim()
}
