#!/usr/bin/env node
// Builds one workspace package (probe, aggregator or shared) into its dist/:
// what `npm pack` ships (each package's `prepack` runs this; `postpack`
// removes dist/ again with --clean).
//
// tsc compiles the package's entry point and everything it imports, with
// rootDir at the repository's root, so the files land at the same relative
// paths as in the repository (dist/probe/src/cli.js beside
// dist/shared/src/args.js) and the relative imports between the parts keep
// working inside the tarball. Nothing of shared/ is a dependency: the code a
// package uses travels in it, and only what it imports.
//
// Then the files the code reads at run time through import.meta.url are
// copied to the same places (a test in test/faults/packages.test.ts runs the
// installed commands, so a missing one fails there):
// - dist/package.json: shared/src/software.ts reads the version from
//   '../../package.json'. It also says "type": "module" for the compiled
//   files. Only name, version and type: the repository's own package.json
//   carries scripts and dependencies that mean nothing here.
// - probe: probe/src/lists/messaging.csv (probe/src/lists/index.ts), and
//   the systemd unit, for the volunteer to copy (docs/volunteers.md).
// - aggregator: aggregator/migrations/ (store/migrate.ts), the dashboard's
//   static/ folder (dashboard/static.ts) and docs/methodology.md
//   (routes/reports.ts).
//
// Last, the dependencies. The package bundles its production dependencies
// ("bundleDependencies": true in its package.json), so the tarball installs
// with no registry at all: `npm install -g --offline <tarball>` works on a
// machine whose npm cache holds only what `npm ci` put there (tarballs, no
// version lists: npm 11 asks the registry for each dependency's full
// version list when it installs a tarball, and would fail offline), and a
// volunteer behind a censor that blocks the npm registry can carry one file.
// Which dependencies, at which versions: <part>/npm-shrinkwrap.json, made by
// `npm install --package-lock-only` on a copy of the repository's lockfile
// beside a package.json with only this package's dependencies (npm keeps the
// entries that satisfy them and drops the rest), so the tarball holds the
// versions the tests ran. Each of its entries is copied from the
// repository's node_modules to <part>/node_modules, where `npm pack` looks
// for bundled dependencies (in the workspace they are hoisted to the root).
// npm packs each dependency's own published files: better-sqlite3 goes as
// its C++ source and SQLite's, and npm runs its install script on the
// installing machine (prebuild-install, else node-gyp: docs/volunteers.md).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Per package: the files (repository-relative) copied beside the compiled code. */
const ASSETS = {
  probe: ['probe/src/lists/messaging.csv', 'packaging/systemd/blockwatch-probe.service'],
  aggregator: ['aggregator/migrations', 'aggregator/src/dashboard/static', 'docs/methodology.md'],
  shared: []
}

const [part, flag] = process.argv.slice(2)
if (!Object.hasOwn(ASSETS, part)) {
  process.stderr.write(`build-package: unknown package ${JSON.stringify(part)}; give one of ${Object.keys(ASSETS).join(', ')} (e.g. node packaging/build-package.js probe)\n`)
  process.exit(2)
}
const dist = join(ROOT, part, 'dist')
const shrinkwrap = join(ROOT, part, 'npm-shrinkwrap.json')
const bundled = join(ROOT, part, 'node_modules')
rmSync(dist, { recursive: true, force: true })
rmSync(shrinkwrap, { force: true })
rmSync(bundled, { recursive: true, force: true })
if (flag === '--clean') process.exit(0)

const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, part, 'tsconfig.build.json')], { stdio: 'inherit' })
if (tsc.status !== 0) {
  process.stderr.write(`build-package: tsc failed for ${part}/ (exit ${tsc.status}); fix the type errors above and pack again\n`)
  process.exit(tsc.status ?? 1)
}

for (const rel of ASSETS[part]) {
  const src = join(ROOT, rel)
  if (!existsSync(src)) {
    process.stderr.write(`build-package: ${rel} is missing; the ${part} package reads it at run time\n`)
    process.exit(1)
  }
  mkdirSync(dirname(join(dist, rel)), { recursive: true })
  cpSync(src, join(dist, rel), { recursive: true })
}

const own = JSON.parse(readFileSync(join(ROOT, part, 'package.json'), 'utf8'))
const repo = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
// One version for the repository and its packages: measurements carry it as software_version.
if (own.version !== repo.version) {
  process.stderr.write(`build-package: ${part}/package.json has version ${own.version} but the repository's package.json has ${repo.version}; give both the same version\n`)
  process.exit(1)
}
writeFileSync(join(dist, 'package.json'), JSON.stringify({ name: own.name, version: own.version, type: 'module', private: true }, null, 2) + '\n')
cpSync(join(ROOT, 'LICENSE'), join(dist, 'LICENSE'))

const tmp = mkdtempSync(join(tmpdir(), `bw-shrinkwrap-${part}-`))
try {
  writeFileSync(join(tmp, 'package.json'), JSON.stringify({ name: own.name, version: own.version, dependencies: own.dependencies ?? {} }))
  cpSync(join(ROOT, 'package-lock.json'), join(tmp, 'package-lock.json'))
  const npm = spawnSync('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tmp, stdio: 'inherit' })
  if (npm.status !== 0) {
    process.stderr.write(
      `build-package: npm could not derive ${part}'s dependency tree from package-lock.json (exit ${npm.status}); run \`npm install\` at the repository's root so the lockfile holds ${part}/package.json's dependencies, then pack again\n`
    )
    process.exit(npm.status ?? 1)
  }
  const lock = JSON.parse(readFileSync(join(tmp, 'package-lock.json'), 'utf8'))
  lock.name = own.name
  lock.packages[''] = { name: own.name, version: own.version, license: own.license, dependencies: own.dependencies, bin: own.bin, engines: own.engines }
  writeFileSync(shrinkwrap, JSON.stringify(lock, null, 2) + '\n')
} finally {
  rmSync(tmp, { recursive: true, force: true })
}

const lock = JSON.parse(readFileSync(shrinkwrap, 'utf8'))
for (const path of Object.keys(lock.packages)) {
  if (path === '') continue
  const from = join(ROOT, path)
  if (!existsSync(from)) {
    process.stderr.write(`build-package: ${path} is not installed in the repository; run \`npm ci\` at the root, then pack again\n`)
    process.exit(1)
  }
  cpSync(from, join(ROOT, part, path), { recursive: true, dereference: true, filter: src => !/(^|\/)node_modules(\/|$)/.test(src.slice(from.length)) })
}
