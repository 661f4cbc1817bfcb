// The import boundaries of docs/architecture.md ("Where things live"),
// checked by `npm run lint` (issue 16). Each rule names the boundary it keeps;
// an exception is a named path with the reason beside it.
//
// CommonJS because dependency-cruiser loads its configuration with require().

/** Verdict code: pure functions of a document, no I/O, no clock. */
const VERDICT = '^shared/src/(verdict/|nettests/|scoring[.]ts$)'

/** Modules that do I/O: the network layer, the two sides, the drivers. */
const IO_CORE = '^(node:)?(net|tls|dns|dns/promises|http|https|http2|dgram|fs|fs/promises|child_process)$'
module.exports = {
  forbidden: [
    {
      name: 'probe-not-aggregator',
      comment: "The probe runs on a volunteer's machine and never loads the server: what both need lives in shared/.",
      severity: 'error',
      from: { path: '^probe/' },
      to: { path: '^aggregator/' }
    },
    {
      name: 'aggregator-not-probe',
      comment: 'The aggregator does not import the probe: what both need lives in shared/.',
      severity: 'error',
      from: { path: '^aggregator/' },
      to: { path: '^probe/' }
    },
    {
      name: 'shared-not-sides',
      comment: 'shared/ is imported by both sides and imports neither.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(probe|aggregator|scripts)/' }
    },
    {
      name: 'verdict-no-io',
      comment:
        'The verdict code (shared/src/verdict, shared/src/nettests, shared/src/scoring.ts) is pure: the aggregator ' +
        'judges again with the same function, so it may not import the network layer, a socket, a file or a driver.',
      severity: 'error',
      from: { path: VERDICT },
      to: {
        dependencyTypesNot: ['type-only'],
        path: ['^shared/src/netx/', '^probe/', '^aggregator/', IO_CORE, '^node_modules/(undici|pg|pg-copy-streams|better-sqlite3|@electric-sql/pglite|dns-packet|smpp)/']
      }
    },
    {
      name: 'verdict-reaches-no-io',
      comment:
        'Nor through another module: nothing the verdict code imports at run time may reach the network layer, ' +
        'a file or a driver (the fingerprint loader that reads files lives in shared/src/netx/fingerprints.ts).',
      severity: 'error',
      from: { path: VERDICT },
      to: {
        reachable: true,
        path: ['^shared/src/netx/', '^probe/', '^aggregator/', IO_CORE, '^node_modules/(undici|pg|pg-copy-streams|better-sqlite3|@electric-sql/pglite|dns-packet|smpp)/']
      }
    },
    {
      name: 'no-circular',
      comment: 'No import cycle at run time (type-only imports vanish when tsx strips the types, so they may go both ways).',
      severity: 'error',
      from: {},
      to: {
        circular: true,
        viaOnly: {
          dependencyTypesNot: ['type-only']
        }
      }
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing fails at run time.',
      severity: 'error',
      from: {},
      // scripts/blockwatch.js imports the compiled build (.build/, made by npm run build) when it is there.
      to: { couldNotResolve: true, pathNot: '^[.][.]/[.]build/' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // .build/ is the compiled copy scripts/blockwatch.js loads when it is fresh (npm run build).
    exclude: { path: '^([.]build|docs|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings']
    },
    skipAnalysisNotInRules: true
  }
}
