/**
 * The names the second SNI follow-up may send (probe/src/nettests/sni-followup.ts,
 * ListedNames): only names from the run's own list, those seen to pass first,
 * never the target's own name or one inside or above it, never one seen cut.
 */
import t from 'tap'
import { ListedNames } from '../../probe/src/nettests/sni-followup.ts'

t.test('nothing listed, nothing offered; literal addresses are no names', async t => {
  const n = new ListedNames()
  t.equal(n.pick('a.example'), null)
  n.noteListed('10.0.0.1')
  n.noteListed('[2001:db8::1]')
  n.noteListed('a.example')
  t.equal(n.pick('a.example'), null, 'the target itself is not another name')
})

t.test('a name that passed comes before a merely listed one', async t => {
  const n = new ListedNames()
  n.noteListed('listed.example')
  n.noteListed('ok.example')
  t.same(n.pick('blocked.example'), { name: 'ok.example', source: 'list' }, 'the latest listed name')
  n.noteHandshakes([{ server_name: 'listed.example', failure: null }])
  t.same(n.pick('blocked.example'), { name: 'listed.example', source: 'tls_ok' })
})

t.test('names seen cut, and names inside or above the target, are never offered', async t => {
  const n = new ListedNames()
  for (const h of ['other.example', 'www.blocked.example', 'example', 'cut.example']) n.noteListed(h)
  n.noteHandshakes([
    { server_name: 'cut.example', failure: 'connection_reset' },
    { server_name: 'x', failure: 'ssl_invalid_hostname' }
  ])
  t.same(n.pick('blocked.example'), { name: 'other.example', source: 'list' })
  n.noteHandshakes([{ server_name: 'cut.example', failure: null }])
  t.same(n.pick('blocked.example'), { name: 'cut.example', source: 'tls_ok' }, 'a name that passed later is good again')
})

t.test('a long run keeps a bounded number of names, the latest', async t => {
  const n = new ListedNames()
  for (let i = 0; i < 1000; i++) n.noteListed(`site-${i}.example`)
  t.same(n.pick('site-999.example'), { name: 'site-998.example', source: 'list' })
  t.equal((n as unknown as { listed: Set<string> }).listed.size, 64)
})
