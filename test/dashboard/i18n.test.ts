/**
 * The dashboard's languages (issue 17, item 4): every catalogue has exactly
 * English's keys and, in each, the same {{placeholders}}; a page's language
 * is ?lang=, else Accept-Language by q-value, else English; Persian pages
 * are right to left.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { explainMeasurement, failureInWords } from '../../aggregator/src/dashboard/explain.ts'
import { CATALOGUES, chooseLanguage, fromAcceptLanguage, matchLanguage, translator } from '../../aggregator/src/dashboard/i18n/index.ts'
import { reasonWords } from '../../shared/src/nettests/index.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { FINGERPRINTS, OONI_SAMPLES } from '../helpers/paths.ts'
import { en } from '../../aggregator/src/dashboard/i18n/en.ts'
import { registerProbe, sampleMeasurement, testApp } from '../helpers/aggregator-app.ts'

type Sections = Record<string, Record<string, string>>

const placeholders = (s: string): string[] => [...s.matchAll(/\{\{(\w+)\}\}/g)].map(m => m[1]).sort()

/** What is wrong with a catalogue next to English: missing and extra keys, placeholders that differ, empty strings. */
function problems(lang: string, c: Sections): string[] {
  const out: string[] = []
  const base = en as Sections
  for (const s of new Set([...Object.keys(base), ...Object.keys(c)])) {
    if (base[s] === undefined) {
      out.push(`${lang}: extra section ${s}`)
      continue
    }
    if (c[s] === undefined) {
      out.push(`${lang}: missing section ${s}`)
      continue
    }
    for (const k of new Set([...Object.keys(base[s]), ...Object.keys(c[s])])) {
      if (base[s][k] === undefined) out.push(`${lang}: extra key ${s}.${k}`)
      else if (c[s][k] === undefined) out.push(`${lang}: missing key ${s}.${k}`)
      else if (typeof c[s][k] !== 'string' || c[s][k].trim() === '') out.push(`${lang}: ${s}.${k} is empty`)
      else if (placeholders(c[s][k]).join() !== placeholders(base[s][k]).join())
        out.push(`${lang}: ${s}.${k} has {{${placeholders(c[s][k]).join('}}, {{')}}}, English {{${placeholders(base[s][k]).join('}}, {{')}}}`)
    }
  }
  return out
}

t.test("every catalogue has English's keys, no others, and their placeholders", async t => {
  t.same(Object.keys(CATALOGUES).sort(), ['en', 'fa', 'ru', 'zh-CN'])
  for (const [lang, c] of Object.entries(CATALOGUES)) t.same(problems(lang, c as Sections), [], `${lang} is complete`)
  // The check itself fails on a catalogue with a key missing, one too many, or a placeholder lost.
  const broken = JSON.parse(JSON.stringify(CATALOGUES.fa)) as Sections
  delete broken.overview.title
  broken.overview.extra = 'x'
  broken.country.hidden = 'بدون شمارش'
  t.same(problems('broken', broken), ['broken: missing key overview.title', 'broken: extra key overview.extra', 'broken: country.hidden has {{}}, English {{count}}'])
  // The legend's words split into one per swatch in every language.
  for (const [lang, c] of Object.entries(CATALOGUES)) {
    t.equal(c.country.legendOutcomes.split(' · ').length, 4, `${lang}: four outcome words`)
    t.equal(c.country.legendStates.split(' · ').length, 5, `${lang}: five state words`)
  }
})

t.test('the language: ?lang=, then Accept-Language by q-value, else English', async t => {
  t.equal(matchLanguage('fa-IR'), 'fa')
  t.equal(matchLanguage('ZH-cn'), 'zh-CN')
  t.equal(matchLanguage('zh-Hans-CN'), 'zh-CN')
  t.equal(matchLanguage('zh-TW'), null, 'traditional Chinese is not simplified')
  t.equal(matchLanguage('de'), null)
  t.equal(fromAcceptLanguage('de-DE, ru;q=0.5, fa;q=0.9'), 'fa', 'the highest q the dashboard speaks')
  t.equal(fromAcceptLanguage('ru;q=0.8, fa;q=0.8'), 'ru', "the header's order among equals")
  t.equal(fromAcceptLanguage('fa;q=0, ru;q=0.1'), 'ru', 'q=0 means not this one')
  t.equal(fromAcceptLanguage('de, zh-TW, zh-CN;q=0.3'), 'zh-CN')
  t.equal(fromAcceptLanguage('de, *;q=0.1'), 'en', '* is any: English')
  t.equal(fromAcceptLanguage('de, fr'), null)
  t.equal(fromAcceptLanguage(undefined), null)
  t.equal(chooseLanguage('ru', 'fa'), 'ru', '?lang= comes first')
  t.equal(chooseLanguage(undefined, 'fa-IR,fa;q=0.9,en;q=0.5'), 'fa')
  t.equal(chooseLanguage(undefined, 'de'), 'en')
  t.equal(chooseLanguage(undefined, undefined), 'en')
})

t.test('pages in each language; Persian right to left', async t => {
  const { app, close } = await testApp({ rateLimits: { dashboard: { max: 1000, timeWindow: '1 minute' } } })
  t.teardown(close)
  const get = async (url: string, lang?: string): Promise<{ status: number; body: string; vary: string }> => {
    const r = await app.inject({ url, headers: lang === undefined ? {} : { 'accept-language': lang } })
    return { status: r.statusCode, body: r.body, vary: String(r.headers.vary ?? '') }
  }
  const fa = await get('/?lang=fa')
  t.equal(fa.status, 200)
  t.match(fa.body, /<html lang="fa" dir="rtl">/)
  t.match(fa.body, `<h1>${CATALOGUES.fa.overview.title}</h1>`)
  t.match(fa.body, `<footer>${CATALOGUES.fa.layout.footer}</footer>`)
  const ru = await get('/', 'de-DE, ru;q=0.7, en;q=0.2')
  t.match(ru.body, /<html lang="ru" dir="ltr">/, 'Accept-Language chooses when ?lang= is absent')
  t.match(ru.body, `<h1>${CATALOGUES.ru.overview.title}</h1>`)
  t.match(ru.vary, /Accept-Language/i, 'caches keep the languages apart')
  const zh = await get('/country/IR?lang=zh-CN', 'fa')
  t.match(zh.body, /<html lang="zh-CN" dir="ltr">/, '?lang= outranks Accept-Language')
  t.match(zh.body, CATALOGUES['zh-CN'].country.timelines)
  t.match((await get('/')).body, /<html lang="en" dir="ltr">/, 'English by default')
  const menu = (await get('/probes?lang=ru')).body
  t.match(menu, '<a href="?lang=fa" lang="fa" hreflang="fa">فارسی</a>', 'a menu of the other languages')
  t.match(menu, `action="/probes?lang=ru"`, 'the token form keeps the language')
  const bad = await get('/?lang=xx')
  t.equal(bad.status, 400, 'a language the dashboard does not speak is a bad parameter')
  t.match(bad.body, /lang: must be one of en, fa, ru, zh-CN/)
  const missing = await get('/event/00000000-0000-0000-0000-000000000000?lang=fa')
  t.equal(missing.status, 404)
  t.match(missing.body, CATALOGUES.fa.errors.noEvent, 'error pages speak the language too')
  const badParam = await get('/country/IR?probe_asn=ASN1&lang=ru')
  t.equal(badParam.status, 400)
  t.match(badParam.body, '<p class="notice" id="error-text">Параметр probe_asn в этом адресе нельзя использовать: исправьте его или уберите.</p>', "an error's body in words, naming the parameter")
  t.match(
    badParam.body,
    /<p class="error-detail">Подробности \(как их сообщает API\): <code lang="en" dir="ltr" id="error-message">probe_asn: &quot;ASN1&quot; is not accepted/,
    "the one error's message below it, as the API says it"
  )
  const zhBad = await get('/?lang=zh-CN&colour=red')
  t.match(zhBad.body, CATALOGUES['zh-CN'].errors.badParamText.replace('{{field}}', 'colour'), 'an unknown parameter, in Chinese')
})

t.test("the token holders' pages speak the viewer's language", async t => {
  const { app, close } = await testApp({ adminToken: 'admin-secret', rateLimits: { dashboard: { max: 1000, timeWindow: '1 minute' } } })
  t.teardown(close)
  const post = async (path: string, token: string, lang: string): Promise<{ status: number; body: string }> => {
    const r = await app.inject({ method: 'POST', url: `${path}?lang=${lang}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${encodeURIComponent(token)}` })
    return { status: r.statusCode, body: r.body }
  }
  const reg = await app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: { software_name: 'blockwatch', software_version: '0.1.0' } })
  const { token } = reg.json() as { token: string }
  const fa = await post('/probes', token, 'fa')
  t.equal(fa.status, 200)
  for (const key of ['yourProbe', 'probeId', 'lastCheckIn', 'pendingThen', 'active'] as const) t.match(fa.body, CATALOGUES.fa.probes[key], `fa: ${key}`)
  t.notMatch(fa.body, /Your probe|last check-in|pending uploads then/, 'no English left on it')
  const unknown = await post('/probes', 'bwp_nobody', 'ru')
  t.equal(unknown.status, 401)
  t.match(unknown.body, CATALOGUES.ru.probes.unknownToken)
  const empty = await post('/probes', '', 'zh-CN')
  t.match(empty.body, CATALOGUES['zh-CN'].probes.enterToken)
  const all = await post('/probes', 'admin-secret', 'ru')
  t.match(all.body, `<h1>${CATALOGUES.ru.probes.allTitle}</h1>`)
  t.match(all.body, CATALOGUES.ru.probes.signedInAdmin)
  const notAdmin = await post('/blockpages', token, 'fa')
  t.equal(notAdmin.status, 403)
  t.match(notAdmin.body, CATALOGUES.fa.blockpages.notAdmin)
  const candidates = await post('/blockpages', 'admin-secret', 'zh-CN')
  t.match(candidates.body, CATALOGUES['zh-CN'].blockpages.signedIn.replace('{{count}}', '0'))
  t.match(candidates.body, CATALOGUES['zh-CN'].blockpages.none)
})

t.test("the verdict explainer speaks the page's language; its reasons cover every nettest kind's", async t => {
  // Every verdict reason of every kind has words in every catalogue (English's are the kinds' own, read from their modules).
  const kinds = [...reasonWords().keys()].sort()
  for (const lang of ['fa', 'ru', 'zh-CN']) t.same(Object.keys(CATALOGUES[lang].reasons).sort(), kinds, `${lang} has words for every nettest kind's reason, and no others`)
  const fp = await loadFingerprintsDir(FINGERPRINTS)
  const doc = JSON.parse(readFileSync(`${OONI_SAMPLES}bug_352.json`, 'utf8')) as Record<string, unknown>
  const flags = { anomaly: true, confirmed: true, failure: false, blocking_type: 'dns', verdict_reason: 'dns_blockpage_fingerprint', fingerprints: ['ooni.ir_10dot10_ipv4_1'] }
  const ru = explainMeasurement(doc, flags, fp, translator('ru'))
  t.equal(ru.headline, 'Подтверждённая блокировка: отпечаток страницы блокировки ooni.ir_10dot10_ipv4_1 совпал с DNS-ответ.')
  t.match(ru.failedStep, /^DNS: зонд получил .*10\.10\.34\.36.*, что не согласуется с контрольным сервером$/)
  t.match(ru.control.join(' '), /^Контрольный сервер получил .*91\.198\.174\.192/)
  t.equal(ru.notes[0], 'Вывод кода вердикта: DNS-ответ — известный адрес страницы блокировки (dns_blockpage_fingerprint).')
  const zh = explainMeasurement(doc, { anomaly: false, confirmed: false, failure: false, down: true, verdict_reason: 'down', fingerprints: null }, fp, translator('zh-CN'))
  t.equal(zh.headline, CATALOGUES['zh-CN'].explain.down)
  t.equal(failureInWords('connection_reset', translator('fa')), 'اتصال بازنشانی شد (connection_reset)', 'failure words, the OONI string kept')
  t.equal(explainMeasurement(doc, flags, fp).headline, 'Confirmed blocking: the blockpage fingerprint ooni.ir_10dot10_ipv4_1 matched the DNS answer.', 'English by default')

  // On the page: the explainer in Persian, no longer marked as English.
  const { app, close } = await testApp({ rateLimits: { dashboard: { max: 1000, timeWindow: '1 minute' } } })
  t.teardown(close)
  const { probe_id: probeId, token } = await registerProbe(app)
  const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: [sampleMeasurement(probeId)] })
  t.equal(up.statusCode, 200, up.body)
  const uid = String((await app.inject({ url: '/api/v1/measurements?probe_cc=IR' })).json().results[0].measurement_uid)
  const page = await app.inject({ url: `/measurement/${encodeURIComponent(uid)}?lang=fa` })
  t.equal(page.statusCode, 200)
  const verdict = /<section class="explain[\s\S]*?<\/section>/.exec(page.body)?.[0] ?? ''
  t.ok(verdict.length > 0, 'the verdict section')
  t.notMatch(verdict, /lang="en"/, 'nothing on the verdict is marked English any more')
  t.match(verdict, /<p class="headline">[^<]*[\u0600-\u06FF]/, 'the headline in Persian')
  t.notMatch(verdict, /No blocking|Anomaly|Confirmed blocking|the control|the probe/, 'no English sentence of the explainer')
})
