#!/usr/bin/env node
// The installed `blockwatch-probe` command: the probe side of `blockwatch`
// (`blockwatch-probe run` is `blockwatch probe run`), from the JavaScript
// that packaging/build-package.js compiled into dist/ when the package was
// packed. In the repository, `blockwatch probe` (scripts/blockwatch.js) runs
// the same code without packing.
import { existsSync, readFileSync } from 'node:fs'

const cli = new URL('../dist/probe/src/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('blockwatch-probe: the compiled probe (dist/) is missing; in the repository, run `npm run build -w probe` or use `node scripts/blockwatch.js probe`\n')
  process.exit(1)
}
const argv = process.argv.slice(2)
if (argv[0] === '--version' || argv[0] === '-v') {
  process.stdout.write(JSON.parse(readFileSync(new URL('../dist/package.json', import.meta.url), 'utf8')).version + '\n')
} else {
  const { main } = await import(cli.href)
  process.exitCode = await main(argv, 'blockwatch-probe')
}
