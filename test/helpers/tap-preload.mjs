// Loaded into tap and every test process through NODE_OPTIONS (package.json's
// "test" and "test:faults"), so that it runs before the modules tap puts on a
// test process's command line.
//
// tap imports @tapjs/processinfo into each test process, whatever the config
// says about coverage. That module registers an ESM loader hook, which Node 20
// runs on a thread of its own: every module the test loads then crosses
// threads, and the hook reads each file again to measure its line lengths.
// This project turns coverage off (package.json, "disable-coverage"), so none
// of that is used: 0.6-0.9 s of CPU a test process, measured on
// .build/test/shared/measurement.test.js (1.38 against 0.77 s) and
// .build/test/aggregator/api-strict-params.test.js (3.38 against 2.45 s).
//
// So processinfo's hook is not registered (any other hook, such as tsx's for a
// TypeScript entry, still is), and its require() hook is told to record
// nothing. tap's own reporting does not depend on either: the test results
// come over the process's standard output.
import Module from 'node:module'

process.env._TAPJS_PROCESSINFO_EXCLUDE_ = '/./'

const register = Module.register
Module.register = function registerUnlessProcessinfo(specifier, ...rest) {
  if (String(specifier).includes('/@tapjs/processinfo/')) return undefined
  return register.call(this, specifier, ...rest)
}
