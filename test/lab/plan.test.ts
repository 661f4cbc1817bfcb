/**
 * The lab's pure parts, without root: the scenario format, the address plan,
 * the iptables ruleset and tc commands per technique, and the blockpages'
 * fingerprints.
 */
import t from 'tap'
import { join } from 'node:path'
import { matchDnsAnswer, matchHttpResponse } from '../../shared/src/fingerprints.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { BLOCKPAGE_200, BLOCKPAGE_403, BLOCKPAGE_PLAIN } from '../../scripts/lab/blockpages.ts'
import { connect as tlsConnect } from 'node:tls'
import { createServer as netServer, type AddressInfo } from 'node:net'
import { ADDR, ADDR6, buildTargets, loadScenario, siteIp, TECHNIQUES, validateScenario, type Scenario } from '../../scripts/lab/plan.ts'
import { ispConfig, ispRuleset, ispRuleset6, relaysFor, sniPattern, tcCommands, worldConfig } from '../../scripts/lab/rules.ts'
import { clientHelloSni, helloRecord } from '../../scripts/lab/tls-hello.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

const scenarioFile = (name: string): string => join(REPO_ROOT, `scripts/lab/scenarios/${name}.json`)

t.test('the scenario format refuses what it does not know, naming the field', async t => {
  t.throws(() => validateScenario({}), /"targets" must be an array/)
  t.throws(() => validateScenario({ targets: [], extra: 1 }), /unknown field "extra"/)
  t.throws(() => validateScenario({ targets: [{ name: 'a', technique: 'dns-magic' }] }), /targets\[0\]\.technique must be one of/)
  t.throws(() => validateScenario({ targets: [{ name: 'A_b' }] }), /targets\[0\]\.name must be a DNS label/)
  t.throws(() => validateScenario({ targets: [{ name: 'a' }, { name: 'a' }] }), /appears twice/)
  t.throws(() => validateScenario({ targets: [{ name: 'site-001' }] }), /reserved/)
  t.throws(() => validateScenario({ targets: [{ name: 'a', answer: '1.2.3' }] }), /answer must be an IPv4 address/)
  t.throws(() => validateScenario({ targets: [{ name: 'a', ports: [0] }] }), /ports must be/)
  t.throws(() => validateScenario({ targets: [], sites: 5000 }), /"sites" must be a whole number from 0 to 2000/)
  t.ok(validateScenario({ targets: [{ name: 'a', kind: 'smpp', technique: 'tcp-drop', ports: [2775] }], sites: 3, rttMs: 50, control: true }))
})

t.test('the ready-made scenarios are valid; all-techniques covers every technique', async t => {
  const all = loadScenario(scenarioFile('all-techniques'))
  const used = new Set(all.targets.map(x => x.technique).filter(Boolean))
  t.same(
    [...TECHNIQUES].filter(x => !used.has(x)),
    [],
    'every technique has a target'
  )
  t.ok(
    all.targets.some(x => x.technique === undefined && x.down !== true),
    'a healthy target'
  )
  t.ok(
    all.targets.some(x => x.down === true),
    'a site that is down'
  )
  for (const kind of ['smpp', 'sms-api'])
    t.ok(
      all.targets.some(x => x.kind === kind && x.technique === undefined),
      `a healthy ${kind}`
    )
  t.ok(loadScenario(scenarioFile('healthy')).targets.every(x => x.technique === undefined))
  const bench = loadScenario(scenarioFile('benchmark'))
  t.equal(bench.sites, 64)
  t.equal(bench.rttMs, 50)
})

t.test('targets get distinct lab addresses and URLs', async t => {
  const targets = buildTargets({ targets: [{ name: 'a' }, { name: 'g', kind: 'smpp' }, { name: 's', kind: 'sms-api' }], sites: 300 })
  t.equal(targets.length, 303)
  t.equal(new Set(targets.map(x => x.ip)).size, 303, 'one address each')
  t.ok(
    targets.every(x => x.ip.startsWith('10.10.')),
    'all in 10.10.0.0/16'
  )
  t.same(targets[0]!.urls, ['http://a.lab.test/', 'https://a.lab.test/'])
  t.same(targets[1]!.urls, ['smpp://g.lab.test:2775'])
  t.same(targets[2]!.urls, ['http://s.lab.test/api/v1/sms', 'https://s.lab.test/api/v1/sms'])
  t.equal(targets[3]!.host, 'site-001.lab.test')
  t.equal(siteIp(251), '10.10.97.1')
  t.equal(targets.at(-1)!.name, 'site-300')
})

t.test('each technique becomes the rule docs/lab.md describes', async t => {
  const scenario: Scenario = loadScenario(scenarioFile('all-techniques'))
  const targets = buildTargets(scenario)
  const ip = (name: string): string => targets.find(x => x.name === name)!.ip
  const relays = relaysFor(targets, 0)
  const rules = ispRuleset(targets, relays, false)
  t.match(rules, `-A PREROUTING -i cl0 -d ${ADDR.resolver}/32 -p udp --dport 53 -j DNAT --to-destination ${ADDR.ispClientSide}:5353`)
  t.match(rules, `-A FORWARD -i cl0 -d ${ip('tcp-drop')}/32 -p tcp -j DROP`)
  t.match(rules, `-A FORWARD -i cl0 -d ${ip('tcp-reset')}/32 -p tcp -j REJECT --reject-with tcp-reset`)
  t.match(rules, `-A FORWARD -i cl0 -d ${ip('tcp-icmp')}/32 -p tcp -j REJECT --reject-with icmp-admin-prohibited`)
  t.match(rules, `-A FORWARD -i cl0 -d ${ip('smpp-blocked')}/32 -p tcp --dport 2775 -j DROP`)
  t.match(rules, `-d ${ip('http-blockpage-200')}/32 -p tcp --dport 80 -j DNAT --to-destination ${ADDR.blockpage}:80`)
  t.match(rules, `-d ${ip('tls-mitm')}/32 -p tcp --dport 443 -j DNAT --to-destination ${ADDR.ispClientSide}:8443`)
  t.match(rules, '--hex-string "|0d0a|host: http-reset.lab.test" --icase')
  t.match(rules, `--hex-string "${sniPattern('tls-reset.lab.test')}"`)
  t.equal(sniPattern('tls-reset.lab.test'), '|000012|tls-reset.lab.test')
  t.notMatch(rules, 'BW_OUTAGE -j DROP')
  t.match(ispRuleset(targets, relays, true), '-A BW_OUTAGE -j DROP')
  t.same(
    relays.map(r => [r.ip, r.port, r.delayMs]),
    [
      [ip('throttle'), 80, 200],
      [ip('throttle'), 443, 200]
    ],
    'throttle: a relay per port, half the rtt each way'
  )
  const tc = tcCommands(targets)
  t.ok(
    tc.add.some(c => c.includes('256kbit')),
    'an HTB class at the throttle rate'
  )
  t.ok(tc.add.some(c => c.join(' ').includes(`match ip src ${ip('throttle')}/32`)))
  t.same(tcCommands(buildTargets({ targets: [{ name: 'a' }] })).add, [], 'no throttle, no qdisc')
  const cfg = ispConfig(targets, relays, 0, { mitmCert: 'c', mitmKey: 'k', readyFile: 'r' })
  t.same(cfg.dns['dns-forge.lab.test'], { technique: 'dns-forge', answer: ADDR.blockpage })
  t.same(cfg.dns['dns-bogon.lab.test'], { technique: 'dns-bogon', answer: '127.0.0.1' })
  t.same(cfg.blockpages, { 'http-blockpage-200.lab.test': 200, 'http-blockpage-403.lab.test': 403 })
  // Issue 15: an unknown blockpage in-path and by DNS, address filtering of TLS, DNS injected over TCP.
  t.match(rules, `-d ${ip('http-blockpage-plain')}/32 -p tcp --dport 80 -j DNAT --to-destination ${ADDR.plainBlockpage}:80`)
  t.same(cfg.dns['dns-forge-plain.lab.test'], { technique: 'dns-forge', answer: ADDR.plainBlockpage })
  t.match(rules, `-A FORWARD -i cl0 -d ${ip('tls-ip-reset')}/32 -p tcp ! --syn --dport 443 -m string --hex-string "|160301|" --algo bm -j REJECT --reject-with tcp-reset`)
  t.same(cfg.dns['dns-inject-tcp.lab.test'], { technique: 'dns-inject-tcp', answer: ADDR.blockpage })
  t.equal(cfg.dnsTcpPort, 5355)
  t.match(rules, `-A PREROUTING -i cl0 -d ${ADDR.resolver}/32 -p tcp --dport 53 -j DNAT --to-destination ${ADDR.ispClientSide}:5355`)
  const plain = buildTargets({ targets: [{ name: 'a' }] })
  t.notMatch(ispRuleset(plain, [], false), '-p tcp --dport 53', 'no TCP interception without a dns-inject-tcp target')
  t.equal(ispConfig(plain, [], 0, { mitmCert: 'c', mitmKey: 'k', readyFile: 'r' }).dnsTcpPort, null)
  const world = worldConfig(targets, { cert: 'c', key: 'k', controlSocket: 's', readyFile: 'r' })
  t.same(
    world.sites
      .filter(x => x.commonHeadersOnly)
      .map(x => x.name)
      .sort(),
    ['dns-forge-plain', 'http-blockpage-plain', 'v6-blockpage'],
    'their sites send common headers only, as in the issue'
  )
  const many = buildTargets(loadScenario(scenarioFile('unknown-blockpage')))
  t.ok(many.filter(x => x.technique === 'dns-forge-plain' || x.technique === 'http-blockpage-plain').length >= 6, 'one unknown blockpage for many targets')
  const bench = buildTargets(loadScenario(scenarioFile('benchmark')))
  t.equal(relaysFor(bench, 50).length, 128, 'the benchmark relays every site, both ports')
})

t.test('several names on one address (issue 15): the format, the plan and the rules', async t => {
  t.throws(() => validateScenario({ targets: [{ name: 'a', sameAddressAs: 'b' }, { name: 'b' }] }), /targets\[0\]\.sameAddressAs must name an earlier target/)
  t.throws(
    () =>
      validateScenario({
        targets: [
          { name: 'a', technique: 'tls-ip-reset' },
          { name: 'b', sameAddressAs: 'a' }
        ]
      }),
    /targets\[1\]\.technique must be tls-ip-reset like a's/
  )
  t.throws(() => validateScenario({ targets: [{ name: 'a' }, { name: 'b', sameAddressAs: 'a', technique: 'tcp-drop' }] }), /targets\[1\]\.technique must be absent like a's/)
  t.throws(
    () =>
      validateScenario({
        targets: [
          { name: 'a', down: true },
          { name: 'b', sameAddressAs: 'a' }
        ]
      }),
    /cannot start down/
  )
  t.throws(
    () =>
      validateScenario({
        targets: [
          { name: 'a', kind: 'smpp' },
          { name: 'b', sameAddressAs: 'a' }
        ]
      }),
    /only web and sms-api/
  )
  t.throws(() => validateScenario({ targets: [{ name: 'a', requireSni: 'yes' }] }), /requireSni must be true or false/)
  // A name-based technique on one name leaves the other name on the address alone: allowed.
  t.ok(
    validateScenario({
      targets: [
        { name: 'a', technique: 'tls-reset' },
        { name: 'b', sameAddressAs: 'a' }
      ]
    })
  )
  const targets = buildTargets(loadScenario(scenarioFile('all-techniques')))
  const by = (name: string) => targets.find(x => x.name === name)!
  t.equal(by('sni-neighbour').ip, by('sni-filtered').ip, 'the SNI pair shares one address')
  t.equal(by('ip-neighbour').ip, by('ip-filtered').ip, 'so does the address pair')
  t.not(by('sni-filtered').ip, by('ip-filtered').ip)
  t.equal(new Set(targets.filter(x => x.sameAddressAs === undefined).map(x => x.ip)).size, targets.filter(x => x.sameAddressAs === undefined).length, 'every other target has its own')
  t.equal(by('sni-filtered').requireSni, true)
  const rules = ispRuleset(targets, relaysFor(targets, 0), false)
  const ipRule = `-d ${by('ip-filtered').ip}/32 -p tcp ! --syn --dport 443`
  t.equal(rules.split(ipRule).length - 1, 1, 'the address rule of the pair is written once')
  t.match(rules, `--hex-string "${sniPattern('sni-filtered.lab.test')}"`)
  t.notMatch(rules, 'sni-neighbour', 'no rule names the neighbour')
  const world = worldConfig(targets, { cert: 'c', key: 'k', controlSocket: 's', readyFile: 'r' })
  t.same(
    world.sites
      .filter(x => x.requireSni === true)
      .map(x => x.name)
      .sort(),
    ['ip-filtered', 'sni-filtered']
  )
})

t.test('IPv6 (issue 15): dual-stack and IPv6-only targets, their AAAA records and ip6tables twins', async t => {
  t.throws(() => validateScenario({ targets: [{ name: 'a', ipv6: 'yes' }] }), /ipv6 must be true \(dual-stack\) or "only"/)
  t.throws(() => validateScenario({ targets: [{ name: 'a', ipv6: true, technique: 'dns-forge' }] }), /dns-forge has no IPv6 twin/)
  t.throws(
    () =>
      validateScenario({
        targets: [
          { name: 'a', ipv6: true },
          { name: 'b', sameAddressAs: 'a', ipv6: true }
        ]
      }),
    /takes a's IPv6 setting/
  )
  const targets = buildTargets(loadScenario(scenarioFile('all-techniques')))
  const by = (name: string) => targets.find(x => x.name === name)!
  t.match(by('dual-stack'), { ipv6: true, ip6: /^fd10:10:64::[0-9a-f]+$/ })
  t.match(by('v6-tcp-reset'), { ipv6: 'only', ip6: /^fd10:10:64::/ })
  t.equal(by('healthy').ip6, undefined, 'IPv4-only targets stay so')
  t.equal(new Set(targets.flatMap(x => x.ip6 ?? [])).size, targets.filter(x => x.ip6 !== undefined).length, 'distinct IPv6 addresses')
  const world = worldConfig(targets, { cert: 'c', key: 'k', controlSocket: 's', readyFile: 'r' })
  const site = (name: string) => world.sites.find(x => x.name === name)!
  t.match(site('dual-stack'), { ip6: by('dual-stack').ip6 })
  t.notOk(site('dual-stack').noA, 'dual-stack keeps its A record')
  t.equal(site('v6-tcp-reset').noA, true, 'IPv6 only: no A record')
  const rules6 = ispRuleset6(targets, false)
  t.match(rules6, `-A FORWARD -i cl0 -d ${by('v6-tcp-reset').ip6}/128 -p tcp -j REJECT --reject-with tcp-reset`)
  t.match(rules6, `-A PREROUTING -i cl0 -d ${by('v6-blockpage').ip6}/128 -p tcp --dport 80 -j DNAT --to-destination [${ADDR6.plainBlockpage}]:80`)
  t.match(rules6, `--hex-string "${sniPattern('tls-reset.lab.test')}"`, 'name rules hold over IPv6 too')
  t.notMatch(rules6, `-d ${by('dual-stack').ip6}`, 'nothing touches the healthy dual-stack site')
  t.notMatch(rules6, 'BW_OUTAGE -j DROP')
  t.match(ispRuleset6(targets, true), '-A BW_OUTAGE -j DROP', 'the outage drops IPv6 too')
})

t.test('the ClientHello reader finds the SNI, or its absence', async t => {
  // Real ClientHellos, from Node's TLS client, with and without SNI.
  const hellos: Buffer[] = []
  const server = netServer(s => {
    let buf = Buffer.alloc(0)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const r = helloRecord(buf)
      if (r !== null) {
        hellos.push(r)
        s.destroy()
      }
    })
    s.on('error', () => {})
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const port = (server.address() as AddressInfo).port
  for (const servername of ['sni-filtered.lab.test', undefined]) {
    await new Promise<void>(resolve => {
      const c = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false })
      c.on('error', () => resolve())
      c.on('close', () => resolve())
    })
  }
  t.equal(hellos.length, 2)
  t.equal(clientHelloSni(hellos[0]!), 'sni-filtered.lab.test')
  t.equal(clientHelloSni(hellos[1]!), null, 'no server_name extension')
  t.equal(helloRecord(hellos[0]!.subarray(0, 20)), null, 'a cut record is not read')
  t.equal(clientHelloSni(Buffer.from('GET / HTTP/1.1\r\n\r\n')), null, 'nor anything that is no ClientHello')
})

t.test('the blockpages and the forged address match OONI fingerprints', async t => {
  const fps = await loadFingerprintsDir(FINGERPRINTS)
  t.ok(matchHttpResponse(fps, { body: BLOCKPAGE_200 }).some(m => m.name === 'ooni.ir_0'))
  t.ok(matchHttpResponse(fps, { body: BLOCKPAGE_403 }).some(m => m.name === 'ooni.be_0'))
  t.equal(matchDnsAnswer(fps, ADDR.blockpage)?.name, 'ooni.ir_10dot10_ipv4_1')
  // The unknown blockpage is unknown: neither its address nor its body matches any fingerprint.
  t.equal(matchDnsAnswer(fps, ADDR.plainBlockpage), null)
  t.same(matchHttpResponse(fps, { body: BLOCKPAGE_PLAIN, headers: { 'content-type': ['text/html; charset=utf-8'] } }), [])
})
