/**
 * The pure rule of blockpage discovery (shared/src/blockpage-discovery.ts),
 * case by case: which pages are one page, when the control saw a page,
 * which clusters qualify, and which pattern is chosen. The stored path is
 * test/aggregator/blockpage-discovery.test.ts; the lab's is
 * test/lab/blockpage-discovery.test.ts.
 */
import t from 'tap'
import { anomalousPage, choosePattern, clusterPages, controlSaw, samePage, type AnomalousPage } from '../../shared/src/blockpage-discovery.ts'
import { bodySketch } from '../../shared/src/verdict/similarity.ts'

const SHORT = '<html><head><title>Notice</title></head><body><p>Blocked.</p></body></html>'
const LONG =
  '<html><head><title>Access restricted</title></head><body><h1>Access restricted</h1><p>Access to this website has been restricted in accordance with the regulations of the national communications authority.</p></body></html>'
const site = (n: number): string => `<html><head><title>Site ${n}</title></head><body><p>${Array.from({ length: 40 }, (_, k) => `s${n}w${k}`).join(' ')}</p></body></html>`

function page(domain: string, body: string, over: Partial<AnomalousPage> = {}): AnomalousPage {
  const doc = {
    test_name: 'web_connectivity',
    test_keys: {
      requests: [{ response: { code: 200, headers: {}, body } }],
      control: { http_request: { status_code: 200, title: 'Site', x_body_sketch: bodySketch(site(0)) } }
    }
  }
  const p = anomalousPage(doc, { measurement_uid: `u-${domain}-${body.length}`, time_ms: 1000, probe_cc: 'XX', probe_asn: 'AS1', domain })
  if (p === null) throw new Error('no page')
  return { ...p, ...over }
}

t.test('one page, or two', async t => {
  const cases: Array<[string, string, string, boolean]> = [
    ['oneLongPageTwice', LONG, LONG, true],
    ['longPageWithTheBlockedNameInIt', LONG.replace('this website', 'news.example'), LONG.replace('this website', 'forum.example'), true],
    ['twoSites', site(1), site(2), false],
    ['oneShortPageTwice', SHORT, SHORT, true],
    ['shortPagesOneWordApart', SHORT, SHORT.replace('Blocked', 'Denied'), false],
    ['aShortPageAndALongOne', SHORT, LONG, false]
  ]
  for (const [name, a, b, want] of cases) t.equal(samePage(page('a.example', a), page('b.example', b)), want, name)
})

t.test('the control saw the page', async t => {
  const p = page('a.example', LONG)
  t.ok(controlSaw(p, { sketch: bodySketch(LONG), title: '' }), 'controlGotTheSamePage')
  t.ok(controlSaw(p, { sketch: null, title: 'access restricted' }), "controlPageOfTheSameTitle (OONI's control: no sketch)")
  t.notOk(controlSaw(p, { sketch: bodySketch(site(3)), title: 'Site 3' }), 'controlGotTheSite')
  t.notOk(controlSaw(p, { sketch: null, title: '' }), 'controlWithNothingToCompare')
})

t.test('clusters that qualify', async t => {
  const three = ['a.example', 'b.example', 'c.example'].map(d => page(d, LONG))
  t.equal(clusterPages(three).length, 1, 'threeDomainsOneNetwork')
  t.equal(clusterPages([page('a.example', LONG), page('www.a.example', LONG), page('b.example', LONG)]).length, 0, 'wwwTwinCountsOnce')
  t.equal(clusterPages(three.map((p, i) => ({ ...p, probe_asn: `AS${i + 1}` }))).length, 0, 'threeNetworksOneDomainEach')
  t.equal(clusterPages(three.map(p => ({ ...p, probe_asn: 'AS0' }))).length, 0, 'unknownNetwork')
  const seen = [...three.slice(0, 2), { ...three[2], control: { sketch: bodySketch(LONG), title: '' } }]
  t.equal(clusterPages(seen).length, 0, 'oneMembersControlSawIt')
  t.equal(clusterPages([...three, page('d.example', site(4))])[0].members.length, 3, 'aSitePageStaysOut')
})

t.test('the pattern', async t => {
  const members = [LONG, LONG.replace('this website', 'news.example')]
  t.equal(choosePattern(LONG, [LONG], []), 'Access to this website has been restricted in accordance with the regulations of the national communications authority.', 'longestText')
  t.equal(choosePattern(members[0], members, []), 'Access restricted', 'longestTextInEveryMember')
  t.equal(choosePattern(members[0], members, ['<p>Access restricted</p>']), '<title>Access restricted</title>', 'titleWhenTheTextIsInASitePage')
  t.equal(choosePattern(members[0], members, ['<title>Access restricted</title> Access restricted']), null, 'noneLeft')
  t.equal(choosePattern('<p>Your address 10.1.2.3 is blocked</p>', ['<p>Your address 10.1.2.3 is blocked</p>'], []), null, 'neverAnAddress')
})
