/**
 * The dashboard's languages (issue 17, item 4): English, Persian (right to
 * left), Russian and Chinese (simplified), through i18next, as the probe's
 * messages are (the aggregator keeps catalogues of its own: it imports
 * nothing from probe/).
 *
 * A page's language: `?lang=` when it names one of these, else the best
 * of the browser's Accept-Language (q-values; a region falls back to its
 * language: fa-IR → fa, zh-Hans-CN → zh-CN, but zh-TW is not simplified
 * Chinese), else English. Catalogues are TypeScript objects typed by
 * English's keys, and test/dashboard/i18n.test.ts checks keys and
 * placeholders at run time too.
 */
import i18next, { type i18n } from 'i18next'
import { en, type Catalogue } from './en.ts'
import { fa } from './fa.ts'
import { ru } from './ru.ts'
import { zhCN } from './zh-CN.ts'

/** Every catalogue, by language tag. */
export const CATALOGUES: Readonly<Record<string, Catalogue>> = Object.freeze({ en, fa, ru, 'zh-CN': zhCN })

/** The language tags the dashboard speaks, English first. */
export const LANGUAGES: readonly string[] = Object.keys(CATALOGUES)

/** Each language's name in itself, for the language menu. */
export const LANGUAGE_NAMES: Readonly<Record<string, string>> = Object.freeze({ en: 'English', fa: 'فارسی', ru: 'Русский', 'zh-CN': '简体中文' })

/** Right-to-left languages. */
export const RTL: ReadonlySet<string> = new Set(['fa'])

/** Dotted keys of the catalogues ("overview.title"). */
export type MessageKey = { [S in keyof Catalogue]: `${S & string}.${keyof Catalogue[S] & string}` }[keyof Catalogue]

/** Translates a key, filling in `{{name}}` values (as text: the page templates escape them). */
export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string

/** What a page needs to speak its viewer's language. */
export interface Locale {
  lang: string
  dir: 'ltr' | 'rtl'
  t: Translate
}

/** The language a tag names (fa, fa-IR, ZH-cn, zh-Hans), or null when the dashboard does not speak it. */
export function matchLanguage(tag: string): string | null {
  const t = tag.trim().toLowerCase()
  if (t === '') return null
  const exact = LANGUAGES.find(l => l.toLowerCase() === t)
  if (exact !== undefined) return exact
  const base = t.split('-')[0]
  // Chinese: simplified unless the tag says traditional (Hant) or a region that writes it.
  if (base === 'zh') return /-hant\b/.test(t) || /-(tw|hk|mo)$/.test(t) ? null : 'zh-CN'
  return LANGUAGES.find(l => l.toLowerCase() === base) ?? null
}

/**
 * The best language of an Accept-Language header (RFC 9110, 12.5.4) that
 * the dashboard speaks: the highest q first, the header's order among
 * equals; `q=0` means "not this one"; `*` means any (English). Null when
 * none fits.
 */
export function fromAcceptLanguage(header: string | undefined): string | null {
  if (header === undefined || header === '') return null
  const ranges = header
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';')
      const q = params.map(p => /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p)).find(m => m !== null)
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q![1]), i }
    })
    .filter(r => r.tag !== '' && r.q > 0)
  ranges.sort((a, b) => b.q - a.q || a.i - b.i)
  for (const r of ranges) {
    if (r.tag === '*') return 'en'
    const l = matchLanguage(r.tag)
    if (l !== null) return l
  }
  return null
}

/** The page's language: `?lang=`, else Accept-Language, else English. */
export function chooseLanguage(langParam: string | undefined, acceptLanguage: string | undefined): string {
  const asked = langParam === undefined ? null : matchLanguage(langParam)
  return asked ?? fromAcceptLanguage(acceptLanguage) ?? 'en'
}

const instances = new Map<string, i18n>()

/** A translator for one language (English where a key were missing, which the types and the test forbid). */
export function translator(lang: string): Translate {
  let i = instances.get(lang)
  if (i === undefined) {
    i = i18next.createInstance()
    void i.init({
      lng: lang,
      fallbackLng: 'en',
      resources: Object.fromEntries(Object.entries(CATALOGUES).map(([l, c]) => [l, { translation: c }])),
      initAsync: false,
      // The page templates escape every value (dashboard/html.ts): escaping here too would show &amp;.
      interpolation: { escapeValue: false },
      returnNull: false
    })
    instances.set(lang, i)
  }
  const inst = i
  return (key, values) => inst.t(key, values ?? {}) as string
}

/** The locale of a request: its `lang` query parameter and Accept-Language header. */
export function localeOf(req: { query: unknown; headers: Record<string, string | string[] | undefined> }): Locale {
  const q = req.query as Record<string, unknown> | null | undefined
  const param = typeof q?.lang === 'string' ? q.lang : undefined
  const header = req.headers['accept-language']
  const lang = chooseLanguage(param, Array.isArray(header) ? header.join(',') : header)
  return { lang, dir: RTL.has(lang) ? 'rtl' : 'ltr', t: translator(lang) }
}

/** The `lang` query parameter's schema, for the pages' query strings. */
export const LANG_PARAM = { type: 'string', enum: [...LANGUAGES], description: `the page's language: ${LANGUAGES.join(', ')} (default: the browser's Accept-Language, else en)` } as const
