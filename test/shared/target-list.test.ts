import t from 'tap'
import { readdirSync } from 'node:fs'
import { readTargetListFile, loadTargetList, formatTargetListError } from '../../shared/src/target-list.ts'
import { TEST_LISTS } from '../helpers/paths.ts'

t.test('the Citizen Lab lists parse with 0 errors', async t => {
  const files = readdirSync(TEST_LISTS).filter(f => f.endsWith('.csv'))
  t.ok(files.length >= 5)
  for (const f of files) {
    let rows = 0
    const errors: string[] = []
    for await (const item of readTargetListFile(TEST_LISTS + f)) {
      if (item.error) errors.push(formatTargetListError(item.error))
      else rows++
    }
    t.same(errors, [], `${f}: no errors`)
    t.ok(rows > 100, `${f}: ${rows} rows`)
  }
})

t.test('a broken CSV names file, line and column; good rows load', async t => {
  const csv = [
    'url,category_code,category_description,date_added,source,notes',
    'https://www.bbc.com/persian,NEWS,News Media,2014-04-15,citizenlab,',
    'htp//broken,NEWS,News Media,2014-04-15,citizenlab,',
    'https://www.facebook.com/,grp!,Social Networking,2014-04-15,citizenlab,',
    'https://twitter.com/,GRP,Social Networking,15/04/2014,citizenlab,',
    '"https://signal.org/,COMT,Communication Tools,2020-01-01,,',
    'dns://telegram.org,COMT,Communication Tools,2020-01-01,blockwatch,"quoted, with comma"',
    'tcp://web.whatsapp.com,COMT,Communication Tools,2020-01-01,blockwatch,',
    'smpp://smsc.example.net:2775,COMT,Communication Tools,2020-01-01,blockwatch,',
    'gopher://old.example,NEWS,News,2020-01-01,,'
  ].join('\n')
  const { targets, errors } = await loadTargetList(csv, 'broken.csv')
  t.same(
    targets.map(x => x.url),
    ['https://www.bbc.com/persian', 'dns://telegram.org', 'smpp://smsc.example.net:2775']
  )
  t.same(
    targets.map(x => x.test_name),
    ['web_connectivity', 'dns_consistency', 'sms_gateway']
  )
  t.equal(targets[1].notes, 'quoted, with comma')
  t.same(
    errors.map(e => [e.line, e.column]),
    [
      [3, 'url'],
      [4, 'category_code'],
      [5, 'date_added'],
      [6, 'url'],
      [8, 'url'],
      [10, 'url']
    ]
  )
  t.ok(errors.every(e => e.file === 'broken.csv'))
  t.match(formatTargetListError(errors[0]), /^broken\.csv:3: column url: /)
  t.match(errors[4].message, /needs a port/)
  t.match(errors[5].message, /not supported/)
})

t.test('a file without the Citizen Lab header is refused with a hint', async t => {
  const { targets, errors } = await loadTargetList('https://a.example/,NEWS\n', 'x.csv')
  t.equal(targets.length, 0)
  t.match(errors[0].message, /header must start with/)
})
