// The probe config: defaults, XDG paths, and errors that name the key and what is allowed.
import t from 'tap'
import { parseConfig, defaultConfigPath, defaultDataDir, ConfigError, plainHttpWarning } from '../../probe/src/config.ts'

t.test('defaults and XDG paths', async t => {
  const c = parseConfig({}, '/d')
  t.equal(c.schedules.priority, '0 * * * *')
  t.equal(c.consent.given, false)
  t.equal(defaultConfigPath({ XDG_CONFIG_HOME: '/x' }), '/x/blockwatch/probe.json')
  t.equal(defaultConfigPath({ HOME: '/h' }), '/h/.config/blockwatch/probe.json')
  t.equal(defaultDataDir({ HOME: '/h' }), '/h/.local/state/blockwatch')
})

t.test('invalid values name the key and what is allowed', async t => {
  const err = t.throws(() => parseConfig({ limits: { nice: 42 }, schedules: { priority: 'hourly' }, upload: { proxy: 'tor' }, region: 'Tehran', colour: 'red' }, '/d')) as ConfigError
  t.ok(err instanceof ConfigError)
  t.match(err.message, 'limits.nice: must be a whole number from 0 to 19, got 42')
  t.match(err.message, 'schedules.priority: must be a cron expression')
  t.match(err.message, 'upload.proxy: must be a proxy URL with a port: socks5://127.0.0.1:9050 (Tor) or http://proxy.example:3128')
  t.match(err.message, 'region: must be an ISO 3166-2 subdivision code')
  t.match(err.message, 'colour: unknown key')
})

t.test('plain http to a non-loopback aggregator warns', async t => {
  t.equal(plainHttpWarning('http://127.0.0.1:8080'), null)
  t.equal(plainHttpWarning('http://localhost:8080'), null)
  // Every spelling of this machine: IPv6 loopback, 127/8 mapped into IPv6, and the unspecified addresses.
  for (const url of ['http://[::1]:8080', 'http://[::ffff:127.0.0.1]:8080', 'http://[::ffff:127.3.2.1]/', 'http://0.0.0.0:8080', 'http://[::]:8080', 'http://127.1:8080', 'http://2130706433/']) {
    t.equal(plainHttpWarning(url), null, `${url} is this machine`)
  }
  for (const url of ['http://[::ffff:10.0.0.1]:8080', 'http://[::2]:8080', 'http://[fe80::1]:8080', 'http://128.0.0.1/', 'http://[2001:db8::127:0:0:1]/', 'http://localhost.example/']) {
    t.match(plainHttpWarning(url) ?? '', 'anyone on the path can see', `${url} is not`)
  }
  t.equal(plainHttpWarning('https://bw.example.org'), null)
  t.match(plainHttpWarning('http://bw.example.org') ?? '', 'anyone on the path can see')
})
