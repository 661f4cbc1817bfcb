/**
 * The probe speaks English, Persian, Russian and Chinese (issue 17, item 4):
 * every catalogue has every key of English, no other, with the same
 * `{{placeholders}}` and a translation of its own; the language comes from
 * --lang, BLOCKWATCH_LANG or the locale; `probe init` shows the consent text
 * and takes the answer in the volunteer's language; the real CLI says its
 * errors in that language and still names the value; Persian keeps
 * left-to-right values whole with Unicode isolates.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { isYes } from '../../probe/src/commands/init.ts'
import { en } from '../../probe/src/i18n/en.ts'
import { FSI, LANGUAGES, PDI, RTL, chooseLanguage, sayError, displayWidth, isolateLtrRuns, languageOf, loadAllCatalogues, matchLanguage, translator } from '../../probe/src/i18n/index.ts'
import { REPO_ROOT } from '../helpers/paths.ts'
import { logLanguage, translatingDestination } from '../../probe/src/i18n/log.ts'
import { plainHttpWarning } from '../../probe/src/config.ts'
import { checkFingerprintFiles } from '../../probe/src/fingerprint-sync.ts'

// A command loads only its language's catalogue; these checks read them all.
const CATALOGUES = await loadAllCatalogues()

/** Every "section.key" of a catalogue, with its text. */
function entries(c: object): Map<string, string> {
  const out = new Map<string, string>()
  for (const [section, keys] of Object.entries(c)) for (const [k, v] of Object.entries(keys as object)) out.set(`${section}.${k}`, v as string)
  return out
}
const placeholders = (s: string): string[] => [...s.matchAll(/\{\{(\w+)\}\}/g)].map(m => m[1]).sort()

/** What is wrong with a catalogue beside English: missing and extra keys, lost or added placeholders, untranslated text. */
function problems(source: object, catalogue: object): string[] {
  const want = entries(source)
  const have = entries(catalogue)
  const out: string[] = []
  for (const key of want.keys()) if (!have.has(key)) out.push(`missing ${key}`)
  for (const key of have.keys()) if (!want.has(key)) out.push(`extra ${key}`)
  for (const [key, text] of want) {
    const tr = have.get(key)
    if (tr === undefined) continue
    if (placeholders(tr).join() !== placeholders(text).join()) out.push(`${key}: placeholders ${placeholders(tr).join(',')} where English has ${placeholders(text).join(',')}`)
    if (tr.trim() === '' || tr === text) out.push(`${key}: not translated`)
  }
  return out
}

t.test('the completeness check finds a missing key, an extra key and a lost placeholder', async t => {
  const broken = structuredClone(CATALOGUES.ru) as unknown as Record<string, Record<string, string>>
  delete broken.status.pending
  broken.status.pendingg = 'ожидают'
  broken.init.registered = 'зарегистрирован как зонд {{probeId}}'
  broken.upload.result = broken.upload.result.replace('{{pending}}', '{{pendin}}')
  t.same(problems(en, broken).sort(), [
    'extra status.pendingg',
    'init.registered: placeholders probeId where English has probeId,url',
    'missing status.pending',
    'upload.result: placeholders duplicates,pendin,rejected,uploaded where English has duplicates,pending,rejected,uploaded'
  ])
})

t.test('every catalogue is complete: the keys and placeholders of English, each translated', async t => {
  t.same(LANGUAGES, ['en', 'fa', 'ru', 'zh-CN'])
  t.ok(entries(en).size > 100, `English has ${entries(en).size} messages`)
  for (const lang of LANGUAGES.filter(l => l !== 'en')) {
    t.same(problems(en, CATALOGUES[lang]), [], `${lang}: the keys and placeholders of English, no more, no fewer, each translated`)
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

t.test("translations fill in values, and the answer is taken in the volunteer's language", async t => {
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
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['scripts/blockwatch.js', 'probe', 'init', ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '', BLOCKWATCH_LANG: '', ...env }
    })
  const bare = (s: string): string => s.replaceAll(FSI, '').replaceAll(PDI, '')
  for (const lang of LANGUAGES) {
    const r = run(['--show-consent', '--lang', lang])
    t.equal(r.status, 0, `${lang}: exit 0`)
    t.equal(bare(r.stdout), CATALOGUES[lang].consent.text, `${lang}: the whole consent text`)
  }
  t.equal(run(['--show-consent'], { BLOCKWATCH_LANG: 'ru' }).stdout, CATALOGUES.ru.consent.text, 'BLOCKWATCH_LANG')
  t.equal(bare(run(['--show-consent'], { LANG: 'fa_IR.UTF-8' }).stdout), CATALOGUES.fa.consent.text, 'the locale')
  const bad = run(['--show-consent', '--lang', 'xx'])
  t.equal(bad.status, 2)
  t.match(bad.stderr, /--lang must be one of en, fa, ru, zh-CN, got "xx"/)
  const headless = run(['--lang', 'fa', '--config', `${t.testdir()}/probe.json`, '--no-register'])
  t.equal(headless.status, 2, 'no terminal and no answer: a usage error')
  t.equal(headless.stderr, `blockwatch: ${translator('fa')('consent.noTerminal')}\n`, 'said in Persian')
})

t.test('Persian: values and left-to-right runs in isolates, the text around them untouched', async t => {
  const fa = translator('fa')
  t.equal(fa('flags.wholeNumber', { flag: '--nice', min: 0, max: 19, value: '"42"' }), `${FSI}--nice${PDI} باید عددی صحیح از ${FSI}0${PDI} تا ${FSI}19${PDI} باشد، اما ${FSI}"42"${PDI} داده شد`)
  t.equal(isolateLtrRuns('کاربرد: blockwatch probe init [گزینه‌ها]'), `کاربرد: ${FSI}blockwatch probe init${PDI} [گزینه‌ها]`, 'the colon before and the bracket after stay outside')
  t.equal(isolateLtrRuns('سرور DNS (پیش‌فرض: /etc/resolv.conf)'), `سرور ${FSI}DNS${PDI} (پیش‌فرض: ${FSI}/etc/resolv.conf${PDI})`, 'an unpaired parenthesis stays outside')
  t.equal(isolateLtrRuns('سقف (PEM) است'), `سقف ${FSI}(PEM)${PDI} است`, 'a paired one goes inside')
  t.equal(isolateLtrRuns('{{a}} ({{b}} اولویت‌دار، {{c}} KiB)'), `{{a}} ({{b}} اولویت‌دار، ${FSI}{{c}} KiB${PDI})`, "placeholders with punctuation only: left to the values' own isolates")
  t.equal(isolateLtrRuns('نشانی‌های دیگر'), 'نشانی‌های دیگر', 'no Latin: nothing added (the zero-width non-joiner is part of the word)')
  t.equal(
    translator('ru')('flags.wholeNumber', { flag: '--nice', min: 0, max: 19, value: '"42"' }),
    '--nice должен быть целым числом от 0 до 19, получено "42"',
    'left-to-right languages get no isolates'
  )
  t.equal(displayWidth('汇总服务器'), 10, 'Chinese characters take two columns')
  t.equal(displayWidth(`${FSI}ab${PDI}`), 2, 'isolates take none')
  t.equal(languageOf(['--concurrency', 'x', '--lang', 'fa'], {}), 'fa')
  t.equal(languageOf(['--lang=zh-CN'], { BLOCKWATCH_LANG: 'ru' }), 'zh-CN')
  t.equal(languageOf(['--', '--lang', 'fa'], { BLOCKWATCH_LANG: 'ru' }), 'ru', 'after -- it is not a flag')
})

t.test('the real CLI says a bad flag value in the chosen language and still names the value', async t => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['scripts/blockwatch.js', 'probe', ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '', BLOCKWATCH_LANG: '', ...env } })
  const fa = cli(['run', '--concurrency', 'lots', '--lang', 'fa'])
  t.equal(fa.status, 2, 'a usage error')
  t.equal(
    fa.stderr,
    `blockwatch: ${FSI}--concurrency${PDI} باید عددی صحیح از ${FSI}1${PDI} تا ${FSI}1024${PDI} باشد، اما ${FSI}"lots"${PDI} داده شد\n`,
    '--lang fa: Persian, the flag and the value isolated'
  )
  const ru = cli(['init', '--nice', '42', '--decline', '--no-register', '--config', `${t.testdir()}/probe.json`], { BLOCKWATCH_LANG: 'ru' })
  t.equal(ru.status, 2)
  t.equal(ru.stderr, 'blockwatch: --nice должен быть целым числом от 0 до 19, получено "42"\n', 'BLOCKWATCH_LANG=ru: Russian, naming the value')
  const en = cli(['init', '--nice', '42', '--decline', '--no-register', '--config', `${t.testdir()}/probe.json`])
  t.equal(en.stderr, 'blockwatch: --nice must be a whole number from 0 to 19, got "42"\n', 'English as before')
  const zh = cli(['status', '--config', `${t.testdir()}/none.json`, '--lang', 'zh-CN'])
  t.equal(zh.status, 1)
  t.match(zh.stderr, /none\.json：探针配置无效：\n {2}这里没有配置；请先运行 `blockwatch probe init`/, 'a missing config, in Chinese, naming the file')
  const sub = cli(['frobnicate'], { BLOCKWATCH_LANG: 'ru' })
  t.equal(sub.status, 2)
  t.match(sub.stderr, 'неизвестная подкоманда probe "frobnicate"', 'an unknown subcommand, in Russian, naming it')
  const help = cli(['--lang', 'zh-CN', 'status', '--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /^blockwatch probe status — 待上传/, '--lang before the subcommand counts too')
})

t.test('log lines: every message the probe logs is in the catalogues, and the readable form is translated', async t => {
  // Each literal message of a logger call (logger.info({…}, 'message'), opts.log('info', 'message', …)) under probe/src.
  const files = (readdirSync(join(REPO_ROOT, 'probe/src'), { recursive: true }) as string[]).filter(f => f.endsWith('.ts') && !f.startsWith('i18n'))
  const logged = new Set<string>()
  for (const f of files) {
    const text = readFileSync(join(REPO_ROOT, 'probe/src', f), 'utf8')
    // A call may span lines (the formatter breaks long ones); it never spans another logger call.
    for (const m of text.matchAll(/logger\??\.(?:trace|debug|info|warn|error)\(\s*\{(?:(?!logger\??\.)[\s\S]){0,800}?\},\s*'([^'\n]+)',?\s*\)|\.log\(\s*'(?:info|warn)',\s*'([^'\n]+)'/g))
      logged.add(m[1] ?? m[2])
  }
  t.ok(logged.size >= 20, `found ${logged.size} logged messages`)
  const known = new Set(Object.values(en.log))
  t.same(
    [...logged].filter(m => !known.has(m)),
    [],
    'each is a text of the log section of en.ts'
  )
  t.same(
    [...known].filter(m => !logged.has(m)),
    [],
    'and the section has no message nobody logs'
  )

  const lines: string[] = []
  const capture = {
    write: (s: string) => {
      lines.push(s)
    }
  }
  const logger = pino({ level: 'info', timestamp: false }, translatingDestination(translator('ru'), capture))
  logger.info({ kind: 'priority', written: 3 }, 'run finished')
  logger.warn({ aggregator: 'http://bw.example.org' }, 'a message the catalogues do not know')
  const [a, b] = lines.map(l => JSON.parse(l) as { msg: string; kind?: string; written?: number })
  t.match(a, { msg: 'запуск завершён', kind: 'priority', written: 3 }, 'translated, the fields as they were')
  t.equal(b.msg, 'a message the catalogues do not know', 'an unknown message stays as it is')
})

t.test('a bad --lang is said in the language the probe would speak without it', async t => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } =>
    spawnSync(process.execPath, ['scripts/blockwatch.js', 'probe', 'status', ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '', BLOCKWATCH_LANG: '', ...env }
    })
  const ru = run(['--lang', 'xx'], { BLOCKWATCH_LANG: 'ru' })
  t.equal(ru.status, 2)
  t.equal(ru.stderr, 'blockwatch: --lang должен быть одним из: en, fa, ru, zh-CN, получено "xx"\n', 'BLOCKWATCH_LANG=ru: Russian, naming the value')
  const fa = run(['--lang', 'xx'], { BLOCKWATCH_LANG: 'de', LANG: 'fa_IR.UTF-8' })
  t.equal(fa.stderr, `blockwatch: ${FSI}--lang${PDI} باید یکی از ${FSI}en, fa, ru, zh-CN${PDI} باشد، اما ${FSI}"xx"${PDI} داده شد\n`, 'a bad BLOCKWATCH_LANG too: the locale, Persian')
  const zh = run([], { BLOCKWATCH_LANG: 'xx', LC_ALL: 'zh_CN.UTF-8' })
  t.equal(zh.stderr, 'blockwatch: BLOCKWATCH_LANG 必须是 en, fa, ru, zh-CN 之一，收到的是 "xx"\n', 'a bad BLOCKWATCH_LANG: the locale, Chinese')
  t.equal(run(['--lang', 'xx']).stderr, 'blockwatch: --lang must be one of en, fa, ru, zh-CN, got "xx"\n', 'else English, as before')
})

t.test("log lines with a value inside: the volunteer's language when readable, English in JSON", async t => {
  const ru = translator('ru')
  t.equal(
    plainHttpWarning('http://bw.example.org:8080/x', logLanguage('pretty', ru)),
    'предупреждение: http://bw.example.org:8080 — это открытый http:// и не этот компьютер: любой на пути видит (и может заблокировать) выгрузку; используйте https:// или --upload-proxy',
    "start's plain-http warning, readable: Russian"
  )
  t.match(plainHttpWarning('http://bw.example.org:8080/x', logLanguage('json', ru)), /^warning: http:\/\/bw\.example\.org:8080 is plain http:\/\//, 'in JSON: English')
  // A refused fingerprint list: the reason is said too, naming the file, line and value.
  const good = 'name,scope,location_found,pattern_type,pattern,expected_countries\n'
  const bad = `${good}x_1,clear,body,full,blocked,IR\n`
  const err = await checkFingerprintFiles({ version: 'v', etag: null, dnsCsv: good.replace('body', 'dns'), httpCsv: bad }, null).catch((e: unknown) => e)
  t.match(err, {
    name: 'FingerprintListError',
    code: 'PROBE_ERR_FINGERPRINT_LIST',
    message: 'fingerprints_http.csv line 2 (x_1): scope must be one of nat, isp, prod, inst, vbw, injb, prov, fp, got "clear"'
  })
  t.equal(sayError(translator('zh-CN'), err), 'fingerprints_http.csv 第 2 行（x_1）：scope 必须是 nat, isp, prod, inst, vbw, injb, prov, fp 之一，收到的是 "clear"')
  const fa = translator('fa')
  t.equal(
    fa('fingerprintList.refused', { reason: sayError(fa, err) }),
    `فهرست اثر انگشت‌های گردآورنده پذیرفته نشد: ${FSI}${FSI}fingerprints_http.csv${PDI}، سطر ${FSI}${FSI}2${PDI} (${FSI}x_1${PDI}): scope${PDI} باید یکی از ${FSI}nat, isp, prod, inst, vbw, injb, prov, fp${PDI} باشد، اما ${FSI}"clear"${PDI} داده شد${PDI}؛ آخرین فهرست سالم نگه داشته می‌شود`,
    'Persian: the reason isolated, its values and its run of Latin text isolated inside it'
  )
})
