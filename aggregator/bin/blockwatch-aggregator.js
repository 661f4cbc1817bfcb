#!/usr/bin/env node
// The installed `blockwatch-aggregator` command: the aggregator side of `blockwatch`
// (`blockwatch-aggregator serve` is `blockwatch aggregator serve`), from the JavaScript
// that packaging/build-package.js compiled into dist/ when the package was
// packed. In the repository, `blockwatch aggregator` (scripts/blockwatch.js) runs
// the same code without packing.
import { existsSync, readFileSync } from 'node:fs'

const cli = new URL('../dist/aggregator/src/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('blockwatch-aggregator: the compiled aggregator (dist/) is missing; in the repository, run `npm run build -w aggregator` or use `node scripts/blockwatch.js aggregator`\n')
  process.exit(1)
}
const argv = process.argv.slice(2)
if (argv[0] === '--version' || argv[0] === '-v') {
  process.stdout.write(JSON.parse(readFileSync(new URL('../dist/package.json', import.meta.url), 'utf8')).version + '\n')
} else {
  const { main } = await import(cli.href)
  process.exitCode = await main(argv)
}
