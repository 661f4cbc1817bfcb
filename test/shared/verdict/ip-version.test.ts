// shared/src/verdict/ip.ts's ipVersion stands in for node:net's isIP in the
// verdict code (which may import no network module, issue 16): the two must
// answer alike, on the forms that matter and on a million generated strings.
import { isIP } from 'node:net'
import t from 'tap'
import { ipVersion, isIPAddress, parseIPv6 } from '../../../shared/src/verdict/ip.ts'

t.test('the forms an address is written in', async t => {
  const cases = [
    '1.2.3.4',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.4%eth0',
    '::',
    '::1',
    '1::',
    '2001:db8::1',
    '2001:DB8:0:0:0:0:0:1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':1::',
    '1:2:3:4:5:6:7',
    '12345::',
    'g::1',
    '::ffff:1.2.3.4',
    '::1.2.3.4',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:01.2.3.4',
    '::ffff:1.2.3',
    'fe80::1%eth0',
    'fe80::1%',
    'fe80::1%a%b',
    'fe80::1%a b',
    '[::1]',
    '',
    ':',
    '.',
    '0x1.2.3.4',
    ' 1.2.3.4'
  ]
  for (const s of cases) t.equal(ipVersion(s), isIP(s), JSON.stringify(s))
  t.equal(isIPAddress('[::1]'), true, 'brackets are taken off')
  t.same(parseIPv6('2001:db8::1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])
})

t.test('a million generated strings, some well formed and some not', async t => {
  let seed = 7
  const r = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
  const parts = ['0', '1', '00', '01', '255', '256', 'ffff', 'FFFF', 'g', '12345', '', ':', '::', '.', '1.2.3.4', '01.2.3.4', '%eth0', '%', '%a b', '%e.t-h:0', '[', ' ']
  const differ: string[] = []
  const check = (s: string): void => {
    if (ipVersion(s) !== isIP(s) && differ.length < 5) differ.push(s)
  }
  for (let i = 0; i < 350_000; i++) {
    let s = ''
    for (let j = 1 + r(10); j > 0; j--) s += (r(3) === 0 ? parts[r(parts.length)] : r(2) === 1 ? r(65536).toString(16) : ':') + (r(4) === 0 ? ':' : r(6) === 0 ? '.' : '')
    check(s)
    let v6 = Array.from({ length: 1 + r(8) }, () => r(65536).toString(16)).join(':')
    if (r(2) === 1) {
      const at = r(v6.length + 1)
      v6 = v6.slice(0, at) + '::' + v6.slice(at)
    }
    if (r(4) === 0) v6 += ':' + [r(300), r(300), r(300), r(300)].join('.')
    if (r(6) === 0) v6 += parts[r(parts.length)]
    check(v6)
    check([r(300), r(300), r(300), r(300)].join('.'))
  }
  t.same(differ, [], 'strings on which ipVersion and isIP disagree')
})
