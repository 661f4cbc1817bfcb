/**
 * What isp does, derived from the targets: the iptables ruleset (one
 * iptables-restore text for isp's own namespace, so that applying it twice
 * leaves the same state), the tc bandwidth caps, the delay relays, and the
 * configs of the two lab daemons. Pure, so it is tested without root.
 *
 * Why each rule looks the way it does: docs/lab.md ("Techniques").
 */
import { ADDR, ADDR6, CONTROL_PORT, DNS_MIDDLEBOX_PORTS, DNS_TCP_MIDDLEBOX_PORT, LAB_ZONE, MITM_PORT, RELAY_BASE_PORT, type LabTarget } from './plan.ts'

/** isp's interface towards client, and towards world (names inside isp's namespace). */
export const ISP_CLIENT_IF = 'cl0'
export const ISP_WORLD_IF = 'wd0'

/** One delay relay listener in isp: `listenPort` on isp forwards to `ip:port` after `delayMs` each way. */
export interface Relay {
  listenPort: number
  ip: string
  port: number
  delayMs: number
  host: string
}

/** The DNS middlebox's view of one target. */
export interface DnsRule {
  technique: 'dns-forge' | 'dns-bogon' | 'dns-nxdomain' | 'dns-timeout' | 'dns-inject' | 'dns-inject-tcp'
  answer?: string
}

/** The isp daemon's config (written to isp.json in the state dir). */
export interface IspConfig {
  /** Middlebox listen address on the client link. */
  listenIp: string
  blockpageIp: string
  /** DNS middlebox: listen port → the resolver it stands in for. */
  dnsPorts: Array<{ port: number; upstream: string }>
  /** Lower-case host → DNS technique (UDP middlebox; dns-inject-tcp: the TCP one). */
  dns: Record<string, DnsRule>
  /** The DNS-over-TCP middlebox's port, when a target needs it (dns-inject-tcp), else null. */
  dnsTcpPort: number | null
  plainBlockpageIp: string
  /** The unknown blockpage's IPv6 address (http-blockpage-plain over IPv6). */
  plainBlockpageIp6: string
  /** Host → blockpage status for http-blockpage-*; any other host gets 200. */
  blockpages: Record<string, 200 | 403>
  mitmPort: number
  mitmCert: string
  mitmKey: string
  relays: Relay[]
  /** Added delay for each genuine DNS answer, in ms (half the scenario's rttMs). */
  dnsDelayMs: number
  readyFile: string
}

/** One site the world daemon serves. */
export interface WorldSite {
  name: string
  host: string
  ip: string
  kind: LabTarget['kind']
  down: boolean
  /** Serve common headers only (no x-lab-target): the site of a *-plain blockpage target, as in issue 15. */
  commonHeadersOnly: boolean
  /** Its IPv6 address (served too, and answered in AAAA), when it has one. */
  ip6?: string
  /** IPv6 only: no A record. */
  noA?: boolean
  /** The HTTPS server of its address resets a ClientHello without SNI. */
  requireSni?: boolean
}

/** The world daemon's config (world.json in the state dir). */
export interface WorldConfig {
  resolvers: string[]
  zone: string
  /** Extra A records besides the sites (control.lab.test, blockpage.lab.test). */
  records: Record<string, string>
  /** Extra AAAA records besides the sites'. */
  records6: Record<string, string>
  sites: WorldSite[]
  cert: string
  key: string
  controlSocket: string
  readyFile: string
}

const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0')

/** The relays isp runs: throttled targets get their own delay; with a scenario rttMs, every healthy web target too. */
export function relaysFor(targets: LabTarget[], scenarioRttMs: number): Relay[] {
  const out: Relay[] = []
  let port = RELAY_BASE_PORT
  for (const t of targets) {
    if (t.kind === 'smpp') continue
    const rtt = t.technique === 'throttle' ? (t.rttMs ?? 0) : t.technique === null ? scenarioRttMs : 0
    if (rtt <= 0 && t.technique !== 'throttle') continue
    for (const p of [80, 443]) out.push({ listenPort: port++, ip: t.ip, port: p, delayMs: Math.round(rtt / 2), host: t.host })
  }
  return out
}

/** The `--hex-string` of a TLS ClientHello server_name entry: type 0, 2-byte length, the name. */
export function sniPattern(host: string): string {
  return `|00${hex(host.length, 2)}|${host}`
}

function portMatch(ports: number[] | undefined): string[] {
  if (ports === undefined) return []
  return ports.length === 1 ? ['--dport', String(ports[0])] : ['-m', 'multiport', '--dports', ports.join(',')]
}

/**
 * The whole ruleset of isp's namespace, as iptables-restore input (nat and
 * filter tables). isp's namespace is the lab's own, so replacing its tables
 * wholesale is both safe and idempotent.
 */
export function ispRuleset(targets: LabTarget[], relays: Relay[], outage: boolean): string {
  const nat: string[] = []
  const filter: string[] = []
  const C = ISP_CLIENT_IF
  for (const [resolver, port] of Object.entries(DNS_MIDDLEBOX_PORTS)) {
    nat.push(`-A PREROUTING -i ${C} -d ${resolver}/32 -p udp --dport 53 -j DNAT --to-destination ${ADDR.ispClientSide}:${port}`)
  }
  // DNS over TCP goes through isp's TCP middlebox only when a target is injected over TCP.
  if (targets.some(t => t.technique === 'dns-inject-tcp')) {
    for (const resolver of Object.keys(DNS_MIDDLEBOX_PORTS)) {
      nat.push(`-A PREROUTING -i ${C} -d ${resolver}/32 -p tcp --dport 53 -j DNAT --to-destination ${ADDR.ispClientSide}:${DNS_TCP_MIDDLEBOX_PORT}`)
    }
  }
  for (const t of targets) {
    const d = `-d ${t.ip}/32`
    switch (t.technique) {
      case 'http-blockpage-200':
      case 'http-blockpage-403':
        nat.push(`-A PREROUTING -i ${C} ${d} -p tcp --dport 80 -j DNAT --to-destination ${ADDR.blockpage}:80`)
        break
      case 'http-blockpage-plain':
        nat.push(`-A PREROUTING -i ${C} ${d} -p tcp --dport 80 -j DNAT --to-destination ${ADDR.plainBlockpage}:80`)
        break
      case 'tls-mitm':
        nat.push(`-A PREROUTING -i ${C} ${d} -p tcp --dport 443 -j DNAT --to-destination ${ADDR.ispClientSide}:${MITM_PORT}`)
        break
      case 'tcp-drop':
        filter.push(['-A FORWARD -i', C, d, '-p tcp', ...portMatch(t.ports), '-j DROP'].join(' '))
        break
      case 'tcp-reset':
        filter.push(['-A FORWARD -i', C, d, '-p tcp', ...portMatch(t.ports), '-j REJECT --reject-with tcp-reset'].join(' '))
        break
      case 'tcp-icmp':
        filter.push(['-A FORWARD -i', C, d, '-p tcp', ...portMatch(t.ports), '-j REJECT --reject-with icmp-admin-prohibited'].join(' '))
        break
      case 'http-reset':
        // fetch sends "host:" in lower case, curl "Host:": hence --icase.
        filter.push(`-A FORWARD -i ${C} -p tcp --dport 80 -m string --hex-string "|0d0a|host: ${t.host}" --icase --algo bm -j REJECT --reject-with tcp-reset`)
        break
      case 'tls-reset':
        filter.push(`-A FORWARD -i ${C} -p tcp --dport 443 -m string --hex-string "${sniPattern(t.host)}" --icase --algo bm -j REJECT --reject-with tcp-reset`)
        break
      case 'tls-ip-reset':
        // Any ClientHello to the address (a TLS handshake record, 16 03 01), whatever name it carries or none.
        filter.push(`-A FORWARD -i ${C} ${d} -p tcp ! --syn --dport 443 -m string --hex-string "|160301|" --algo bm -j REJECT --reject-with tcp-reset`)
        break
      default:
        break
    }
  }
  for (const r of relays) {
    nat.push(`-A PREROUTING -i ${C} -d ${r.ip}/32 -p tcp --dport ${r.port} -j DNAT --to-destination ${ADDR.ispClientSide}:${r.listenPort}`)
  }
  return restoreText(nat, filter, outage)
}

/**
 * The iptables-restore text of both tables: the outage chain first (it
 * drops what the client sends through isp and to isp's middleboxes), then
 * the rules, each once (names sharing an address give the same rule twice).
 */
function restoreText(nat: string[], filter: string[], outage: boolean): string {
  const C = ISP_CLIENT_IF
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...new Set(nat),
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':BW_OUTAGE - [0:0]',
    `-A INPUT -i ${C} -j BW_OUTAGE`,
    `-A FORWARD -i ${C} -j BW_OUTAGE`,
    `-A FORWARD -o ${C} -j BW_OUTAGE`,
    ...(outage ? ['-A BW_OUTAGE -j DROP'] : []),
    ...new Set(filter),
    'COMMIT',
    ''
  ].join('\n')
}

/**
 * isp's IPv6 ruleset (ip6tables-restore input): the twins of the
 * techniques on targets with an IPv6 address (IPV6_TECHNIQUES), the rules
 * that match a name (http-reset, tls-reset) for every target, as a censor
 * matching names does whatever the family, and the outage chain.
 */
export function ispRuleset6(targets: LabTarget[], outage: boolean): string {
  const nat: string[] = []
  const filter: string[] = []
  const C = ISP_CLIENT_IF
  for (const t of targets) {
    if (t.technique === 'http-reset') filter.push(`-A FORWARD -i ${C} -p tcp --dport 80 -m string --hex-string "|0d0a|host: ${t.host}" --icase --algo bm -j REJECT --reject-with tcp-reset`)
    if (t.technique === 'tls-reset') filter.push(`-A FORWARD -i ${C} -p tcp --dport 443 -m string --hex-string "${sniPattern(t.host)}" --icase --algo bm -j REJECT --reject-with tcp-reset`)
    if (t.ip6 === undefined) continue
    const d = `-d ${t.ip6}/128`
    switch (t.technique) {
      case 'http-blockpage-plain':
        nat.push(`-A PREROUTING -i ${C} ${d} -p tcp --dport 80 -j DNAT --to-destination [${ADDR6.plainBlockpage}]:80`)
        break
      case 'tcp-drop':
        filter.push(['-A FORWARD -i', C, d, '-p tcp', ...portMatch(t.ports), '-j DROP'].join(' '))
        break
      case 'tcp-reset':
        filter.push(['-A FORWARD -i', C, d, '-p tcp', ...portMatch(t.ports), '-j REJECT --reject-with tcp-reset'].join(' '))
        break
      case 'tcp-icmp':
        filter.push(['-A FORWARD -i', C, d, '-p tcp', ...portMatch(t.ports), '-j REJECT --reject-with icmp6-adm-prohibited'].join(' '))
        break
      case 'tls-ip-reset':
        filter.push(`-A FORWARD -i ${C} ${d} -p tcp ! --syn --dport 443 -m string --hex-string "|160301|" --algo bm -j REJECT --reject-with tcp-reset`)
        break
      default:
        break
    }
  }
  return restoreText(nat, filter, outage)
}

/**
 * tc commands (argv lists for `tc`, run in isp) for the throttled targets'
 * bandwidth caps: HTB on both of isp's interfaces, one class per target,
 * matched by the target's address (source towards client, destination
 * towards world). Starts by removing any root qdisc (errors ignored by the caller).
 */
export function tcCommands(targets: LabTarget[]): { reset: string[][]; add: string[][] } {
  const reset = [ISP_CLIENT_IF, ISP_WORLD_IF].map(dev => ['qdisc', 'del', 'dev', dev, 'root'])
  const throttled = targets.filter(t => t.technique === 'throttle' && t.rateKbit !== undefined)
  const add: string[][] = []
  if (throttled.length === 0) return { reset, add }
  for (const [dev, dir] of [
    [ISP_CLIENT_IF, 'src'],
    [ISP_WORLD_IF, 'dst']
  ] as const) {
    add.push(['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10', 'r2q', '1000'])
    add.push(['class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit'])
    throttled.forEach((t, i) => {
      const cls = `1:${(100 + i).toString(16)}`
      const rate = `${t.rateKbit!}kbit`
      add.push(['class', 'add', 'dev', dev, 'parent', '1:', 'classid', cls, 'htb', 'rate', rate, 'ceil', rate, 'burst', '4k', 'cburst', '4k'])
      add.push(['filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', dir, `${t.ip}/32`, 'flowid', cls])
    })
  }
  return { reset, add }
}

/** The isp daemon's config. */
export function ispConfig(targets: LabTarget[], relays: Relay[], scenarioRttMs: number, files: { mitmCert: string; mitmKey: string; readyFile: string }): IspConfig {
  const dns: Record<string, DnsRule> = {}
  const blockpages: Record<string, 200 | 403> = {}
  for (const t of targets) {
    switch (t.technique) {
      case 'dns-forge':
      case 'dns-bogon':
      case 'dns-inject':
      case 'dns-inject-tcp':
        dns[t.host] = { technique: t.technique, answer: t.answer }
        break
      case 'dns-forge-plain':
        dns[t.host] = { technique: 'dns-forge', answer: t.answer }
        break
      case 'dns-nxdomain':
      case 'dns-timeout':
        dns[t.host] = { technique: t.technique }
        break
      case 'http-blockpage-200':
        blockpages[t.host] = 200
        break
      case 'http-blockpage-403':
        blockpages[t.host] = 403
        break
      default:
        break
    }
  }
  return {
    listenIp: ADDR.ispClientSide,
    blockpageIp: ADDR.blockpage,
    dnsPorts: Object.entries(DNS_MIDDLEBOX_PORTS).map(([upstream, port]) => ({ port, upstream })),
    dns,
    dnsTcpPort: targets.some(t => t.technique === 'dns-inject-tcp') ? DNS_TCP_MIDDLEBOX_PORT : null,
    plainBlockpageIp: ADDR.plainBlockpage,
    plainBlockpageIp6: ADDR6.plainBlockpage,
    blockpages,
    mitmPort: MITM_PORT,
    mitmCert: files.mitmCert,
    mitmKey: files.mitmKey,
    relays,
    dnsDelayMs: Math.round(scenarioRttMs / 2),
    readyFile: files.readyFile
  }
}

/** The world daemon's config. */
export function worldConfig(targets: LabTarget[], files: { cert: string; key: string; controlSocket: string; readyFile: string }): WorldConfig {
  return {
    resolvers: [ADDR.resolver, ADDR.publicResolver],
    zone: LAB_ZONE,
    records: { [`control.${LAB_ZONE}`]: ADDR.control, [`blockpage.${LAB_ZONE}`]: ADDR.blockpage },
    records6: {},
    sites: targets.map(t => ({
      name: t.name,
      host: t.host,
      ip: t.ip,
      kind: t.kind,
      down: t.down,
      commonHeadersOnly: t.technique === 'http-blockpage-plain' || t.technique === 'dns-forge-plain',
      ...(t.ip6 !== undefined ? { ip6: t.ip6 } : {}),
      ...(t.ipv6 === 'only' ? { noA: true } : {}),
      ...(t.requireSni === true ? { requireSni: true } : {})
    })),
    ...files
  }
}

/** The control vantage's URL. */
export const CONTROL_URL = `http://${ADDR.control}:${CONTROL_PORT}`
