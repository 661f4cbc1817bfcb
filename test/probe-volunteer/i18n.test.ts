/**
 * The probe speaks English, Persian, Russian and Chinese (issue 17, item 4):
 * every catalogue has every key of English with the same `{{placeholders}}`
 * and a translation of its own; the language comes from --lang,
 * BLOCKWATCH_LANG or the locale; `probe init` shows the consent text and
 * takes the answer in the volunteer's language.
 */
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { isYes } from '../../probe/src/commands/init.ts'
import { en } from '../../probe/src/i18n/en.ts'
import { CATALOGUES, LANGUAGES, RTL, chooseLanguage, matchLanguage, translator } from '../../probe/src/i18n/index.ts'
import { REPO_ROOT } from '../helpers/lab.ts'

/** Every "section.key" of a catalogue, with its text. */
function entries (c: object): Map<string, string> {
  const out = new Map<string, string>()
  for (const [section, keys] of Object.entries(c)) for (const [k, v] of Object.entries(keys as object)) out.set(`${section}.${k}`, v as string)
  return out
}
const placeholders = (s: string): string[] => [...s.matchAll(/\{\{(\w+)\}\}/g)].map(m => m[1]).sort()

t.test('every catalogue is complete: the keys and placeholders of English, each translated', async t => {
  const source = entries(en)
  t.same(LANGUAGES, ['en', 'fa', 'ru', 'zh-CN'])
  for (const lang of LANGUAGES.filter(l => l !== 'en')) {
    const cat = entries(CATALOGUES[lang])
    t.same([...cat.keys()].sort(), [...source.keys()].sort(), `${lang}: the keys of English, no more, no fewer`)
    for (const [key, text] of source) {
      const tr = cat.get(key) ?? ''
      t.same(placeholders(tr), placeholders(text), `${lang} ${key}: the same placeholders`)
      t.ok(tr.trim() !== '' && tr !== text, `${lang} ${key}: translated`)
    }
    // The commands and flags a volunteer must type stay as they are.
    for (const literal of ['--upload-proxy socks5://127.0.0.1:9050', 'docs/privacy.md', 'docs/volunteers.md']) {
      t.ok(CATALOGUES[lang].consent.text.includes(literal), `${lang}: the consent text keeps ${literal}`)
    }
  }
  t.ok(RTL.has('fa') && !RTL.has('ru'), 'Persian is right to left')
})

t.test('the language: --lang, then BLOCKWATCH_LANG, then the locale, then English', async t => {
  t.equal(chooseLanguage('fa', { BLOCKWATCH_LANG: 'ru' }), 'fa')
  t.equal(chooseLanguage(undefined, { BLOCKWATCH_LANG: 'ru', LANG: 'fa_IR.UTF-8' }), 'ru')
  t.equal(chooseLanguage(undefined, { LANG: 'fa_IR.UTF-8' }), 'fa')
  t.equal(chooseLanguage(undefined, { LC_ALL: 'zh_CN.UTF-8', LANG: 'ru_RU.UTF-8' }), 'zh-CN', 'LC_ALL wins over LANG')
  t.equal(chooseLanguage(undefined, { LANG: 'de_DE.UTF-8' }), 'en', 'an unknown locale falls back to English quietly')
  t.equal(chooseLanguage(undefined, { LANG: 'C.UTF-8' }), 'en')
  t.equal(chooseLanguage(undefined, {}), 'en')
  t.equal(matchLanguage('zh-Hans'), 'zh-CN')
  t.equal(matchLanguage('zh_TW'), null, 'traditional Chinese is not simplified Chinese')
  t.throws(() => chooseLanguage('xx', {}), { name: 'UsageError', message: '--lang must be one of en, fa, ru, zh-CN, got "xx"' })
  t.throws(() => chooseLanguage(undefined, { BLOCKWATCH_LANG: 'de' }), { message: /^BLOCKWATCH_LANG must be one of en, fa, ru, zh-CN/ })
})

t.test('translations fill in values, and the answer is taken in the volunteer\'s language', async t => {
  t.equal(translator('ru')('init.registered', { url: 'https://a.example', probeId: 'p-1' }), 'зарегистрирован на https://a.example как зонд p-1')
  t.equal(translator('en')('init.registered', { url: 'https://a.example', probeId: 'p-<1>' }), 'registered with https://a.example as probe p-<1>', 'no HTML escaping in a terminal')
  const fa = translator('fa')
  t.ok(isYes(' بله ', fa))
  t.ok(isYes('YES', fa), 'English yes is always understood')
  t.notOk(isYes('نه', fa))
  t.ok(isYes('Да', translator('ru')))
  t.ok(isYes('同意', translator('zh-CN')))
  t.notOk(isYes('', translator('en')))
})

t.test('probe init --show-consent in each language', async t => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null, stdout: string, stderr: string } =>
    spawnSync(process.execPath, ['scripts/blockwatch.js', 'probe', 'init', ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '', BLOCKWATCH_LANG: '', ...env } })
  for (const lang of LANGUAGES) {
    const r = run(['--show-consent', '--lang', lang])
    t.equal(r.status, 0, `${lang}: exit 0`)
    t.equal(r.stdout, CATALOGUES[lang].consent.text, `${lang}: the whole consent text`)
  }
  t.equal(run(['--show-consent'], { BLOCKWATCH_LANG: 'ru' }).stdout, CATALOGUES.ru.consent.text, 'BLOCKWATCH_LANG')
  t.equal(run(['--show-consent'], { LANG: 'fa_IR.UTF-8' }).stdout, CATALOGUES.fa.consent.text, 'the locale')
  const bad = run(['--show-consent', '--lang', 'xx'])
  t.equal(bad.status, 2)
  t.match(bad.stderr, /--lang must be one of en, fa, ru, zh-CN, got "xx"/)
  const headless = run(['--lang', 'fa', '--config', `${t.testdir()}/probe.json`, '--no-register'])
  t.equal(headless.status, 2, 'no terminal and no answer: a usage error')
  t.match(headless.stderr, CATALOGUES.fa.consent.noTerminal, 'said in Persian')
})
