/**
 * The probe's languages (issue 17): English, Persian (right to left),
 * Russian and Chinese (simplified), through i18next (a maintained library
 * with plural rules and fallbacks; version 26, which runs on Node 20).
 *
 * The language: `--lang`, else BLOCKWATCH_LANG, else the terminal's locale
 * (LC_ALL, LC_MESSAGES, LANG: fa_IR.UTF-8 → fa), else English. A language
 * asked for by flag or BLOCKWATCH_LANG that the probe does not speak is a
 * usage error naming the ones it does; one from the locale falls back to
 * English quietly.
 *
 * Catalogues are TypeScript objects typed by English's keys: a missing key
 * does not compile, and test/probe-volunteer/i18n.test.ts checks the keys
 * and the `{{placeholders}}` of each at run time too.
 */
import i18next from 'i18next'
import { UsageError } from '../../../shared/src/args.ts'
import { en, type Catalogue } from './en.ts'
import { fa } from './fa.ts'
import { ru } from './ru.ts'
import { zhCN } from './zh-CN.ts'

/** Every catalogue, by language tag. */
export const CATALOGUES: Readonly<Record<string, Catalogue>> = { en, fa, ru, 'zh-CN': zhCN }

/** The language tags the probe speaks. */
export const LANGUAGES = Object.keys(CATALOGUES)

/** Right-to-left languages. */
export const RTL = new Set(['fa'])

/** Maps a tag or locale (fa, fa-IR, fa_IR.UTF-8, zh, zh_CN, ZH-cn) to a language the probe speaks, or null. */
export function matchLanguage (tag: string): string | null {
  const t = tag.split('.')[0].replace('_', '-').toLowerCase()
  if (t === '' || t === 'c' || t === 'posix') return null
  const exact = LANGUAGES.find(l => l.toLowerCase() === t)
  if (exact !== undefined) return exact
  const base = t.split('-')[0]
  if (base === 'zh') return t.includes('hant') || /-(tw|hk|mo)$/.test(t) ? null : 'zh-CN'
  return LANGUAGES.find(l => l.toLowerCase() === base) ?? null
}

/** The language to speak: --lang, BLOCKWATCH_LANG, the locale, English. */
export function chooseLanguage (flag: string | undefined, env: NodeJS.ProcessEnv): string {
  for (const [name, value] of [['--lang', flag], ['BLOCKWATCH_LANG', env.BLOCKWATCH_LANG]] as const) {
    if (value === undefined || value === '') continue
    const l = matchLanguage(value)
    if (l === null) throw new UsageError(`${name} must be one of ${LANGUAGES.join(', ')}, got ${JSON.stringify(value)}`)
    return l
  }
  for (const v of [env.LC_ALL, env.LC_MESSAGES, env.LANG]) {
    if (v === undefined || v === '') continue
    return matchLanguage(v) ?? 'en'
  }
  return 'en'
}

/** Dotted keys of the catalogues ("consent.text"). */
export type MessageKey = { [S in keyof Catalogue]: `${S & string}.${keyof Catalogue[S] & string}` }[keyof Catalogue]

/** Translates a key, filling in `{{name}}` values. */
export type Translate = (key: MessageKey, values?: Record<string, string>) => string

/** A translator for one language (English where a key were missing). Values are put in as given: the terminal is not HTML. */
export function translator (lang: string): Translate {
  const i = i18next.createInstance()
  void i.init({
    lng: lang,
    fallbackLng: 'en',
    resources: Object.fromEntries(Object.entries(CATALOGUES).map(([l, c]) => [l, { translation: c }])),
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false
  })
  return (key, values) => i.t(key, values ?? {}) as string
}
