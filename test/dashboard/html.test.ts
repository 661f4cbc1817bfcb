/** Escaping in the dashboard's HTML builder (issue 8): attacker strings become text. */
import t from 'tap'
import { escapeHtml, html, jsonForScript, query, safeHref, SafeHtml } from '../../aggregator/src/dashboard/html.ts'

const XSS = '<img src=x onerror=alert(1)>'

t.test('interpolated values are escaped; nested SafeHtml is not', async t => {
  const out = html`<p title="${XSS}">${XSS}</p>${html`<b>${'&'}</b>`}`.value
  t.equal(out, '<p title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;</p><b>&amp;</b>')
  t.notOk(out.includes('<img'))
})

t.test('quotes cannot break out of attributes', async t => {
  t.equal(escapeHtml(`"'\`x`), '&quot;&#39;&#96;x')
  t.equal(html`<a href="${'" onmouseover="alert(1)'}">`.value, '<a href="&quot; onmouseover=&quot;alert(1)">')
})

t.test('arrays are joined, null, undefined and false print nothing, numbers print', async t => {
  t.equal(html`${[XSS, 1, null, undefined, false]}`.value, '&lt;img src=x onerror=alert(1)&gt;1')
  t.ok(html`x` instanceof SafeHtml)
})

t.test('JSON for a script block cannot close the block', async t => {
  const out = jsonForScript({ domain: '</script><script>alert(1)</script>', sep: '\u2028' }).value
  t.notOk(out.includes('<'))
  t.notOk(out.includes('\u2028'))
  t.same(JSON.parse(out), { domain: '</script><script>alert(1)</script>', sep: '\u2028' })
})

t.test('safeHref keeps paths and http(s) and refuses other schemes', async t => {
  t.equal(safeHref('/event/1'), '/event/1')
  t.equal(safeHref('https://example.org/a'), 'https://example.org/a')
  t.equal(safeHref('javascript:alert(1)'), '#')
  t.equal(safeHref('//evil.example/'), '#')
  t.equal(safeHref('data:text/html,x'), '#')
})

t.test('query keeps defined, non-empty values, encoded', async t => {
  t.equal(query({ a: 'x y', b: undefined, c: '', d: 3, e: XSS }), '?a=x+y&d=3&e=%3Cimg+src%3Dx+onerror%3Dalert%281%29%3E')
  t.equal(query({}), '')
})
