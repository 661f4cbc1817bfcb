/**
 * The lab's pure parts, without root: the scenario format, the address plan,
 * the iptables ruleset and tc commands per technique, and the blockpages'
 * fingerprints.
 */
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadFingerprintsDir, matchDnsAnswer, matchHttpResponse } from '../../shared/src/fingerprints.ts'
import { BLOCKPAGE_200, BLOCKPAGE_403, BLOCKPAGE_PLAIN } from '../../scripts/lab/blockpages.ts'
import { ADDR, buildTargets, loadScenario, siteIp, TECHNIQUES, validateScenario, type Scenario } from '../../scripts/lab/plan.ts'
import { ispConfig, ispRuleset, relaysFor, sniPattern, tcCommands, worldConfig } from '../../scripts/lab/rules.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'

const scenarioFile = (name: string): string => fileURLToPath(new URL(`../../scripts/lab/scenarios/${name}.json`, import.meta.url))

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
  t.same([...TECHNIQUES].filter(x => !used.has(x)), [], 'every technique has a target')
  t.ok(all.targets.some(x => x.technique === undefined && x.down !== true), 'a healthy target')
  t.ok(all.targets.some(x => x.down === true), 'a site that is down')
  for (const kind of ['smpp', 'sms-api']) t.ok(all.targets.some(x => x.kind === kind && x.technique === undefined), `a healthy ${kind}`)
  t.ok(loadScenario(scenarioFile('healthy')).targets.every(x => x.technique === undefined))
  const bench = loadScenario(scenarioFile('benchmark'))
  t.equal(bench.sites, 64)
  t.equal(bench.rttMs, 50)
})

t.test('targets get distinct lab addresses and URLs', async t => {
  const targets = buildTargets({ targets: [{ name: 'a' }, { name: 'g', kind: 'smpp' }, { name: 's', kind: 'sms-api' }], sites: 300 })
  t.equal(targets.length, 303)
  t.equal(new Set(targets.map(x => x.ip)).size, 303, 'one address each')
  t.ok(targets.every(x => x.ip.startsWith('10.10.')), 'all in 10.10.0.0/16')
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
  t.same(relays.map(r => [r.ip, r.port, r.delayMs]), [[ip('throttle'), 80, 200], [ip('throttle'), 443, 200]], 'throttle: a relay per port, half the rtt each way')
  const tc = tcCommands(targets)
  t.ok(tc.add.some(c => c.includes('256kbit')), 'an HTB class at the throttle rate')
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
  t.same(world.sites.filter(x => x.commonHeadersOnly).map(x => x.name).sort(), ['dns-forge-plain', 'http-blockpage-plain'], 'their sites send common headers only, as in the issue')
  const many = buildTargets(loadScenario(scenarioFile('unknown-blockpage')))
  t.ok(many.filter(x => x.technique === 'dns-forge-plain' || x.technique === 'http-blockpage-plain').length >= 6, 'one unknown blockpage for many targets')
  const bench = buildTargets(loadScenario(scenarioFile('benchmark')))
  t.equal(relaysFor(bench, 50).length, 128, 'the benchmark relays every site, both ports')
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
