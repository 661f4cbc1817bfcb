/**
 * The hosts file (/etc/hosts, hosts(5)), which the system's own resolver
 * (getaddrinfo, nsswitch "files dns") reads before asking DNS. The probe
 * sends its own DNS packets, so it reads the file itself: `localhost`, and
 * whatever the machine's owner pinned there, resolve as they do for every
 * other program on the machine.
 */
import { readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'

/** The hosts file read when a lookup names none. */
export const DEFAULT_HOSTS_FILE = '/etc/hosts'

/** Parsed files, kept while their modification time and size are unchanged. */
const cache = new Map<string, { mtimeMs: number; size: number; table: Map<string, string[]> }>()

/** Parses hosts(5) text: name (lower case) → addresses, in file order. */
export function parseHosts(text: string): Map<string, string[]> {
  const table = new Map<string, string[]>()
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') continue
    const [addr, ...names] = line.split(/\s+/)
    const ip = addr.replace(/%.*$/, '')
    if (isIP(ip) === 0) continue
    for (const n of names) {
      const name = n.toLowerCase().replace(/\.$/, '')
      const list = table.get(name) ?? []
      if (!list.includes(ip)) list.push(ip)
      table.set(name, list)
    }
  }
  return table
}

/**
 * The addresses the hosts file gives a name, or an empty list (no entry, or
 * no readable file).
 */
export function hostsAddresses(name: string, file: string = DEFAULT_HOSTS_FILE): string[] {
  let st
  try {
    st = statSync(file)
  } catch {
    return []
  }
  let entry = cache.get(file)
  if (entry === undefined || entry.mtimeMs !== st.mtimeMs || entry.size !== st.size) {
    let text = ''
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return []
    }
    entry = { mtimeMs: st.mtimeMs, size: st.size, table: parseHosts(text) }
    cache.set(file, entry)
  }
  return entry.table.get(name.toLowerCase().replace(/\.$/, '')) ?? []
}
