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

/**
 * Each language's catalogue, by tag. English is always loaded (the source,
 * and the fallback); another language's catalogue is loaded when a command
 * speaks it ({@link loadCatalogue}), so a probe holds at most two
 * (docs/benchmarks.md, "Probe footprint").
 */
const CATALOGUE_LOADERS: Readonly<Record<string, () => Promise<Catalogue>>> = {
  en: async () => en,
  fa: async () => (await import('./fa.ts')).fa,
  ru: async () => (await import('./ru.ts')).ru,
  'zh-CN': async () => (await import('./zh-CN.ts')).zhCN
}

/** The catalogues loaded so far, by language tag. */
const loaded = new Map<string, Catalogue>([['en', en]])

/** The language tags the probe speaks. */
export const LANGUAGES: readonly string[] = Object.keys(CATALOGUE_LOADERS)

/** Loads the catalogue of a language the probe speaks (one of {@link LANGUAGES}), once; {@link translator} needs it. */
export async function loadCatalogue(lang: string): Promise<Catalogue> {
  const load = CATALOGUE_LOADERS[lang]
  if (load === undefined) throw new TypeError(`no catalogue for language ${JSON.stringify(lang)}; the probe speaks ${LANGUAGES.join(', ')}`)
  let c = loaded.get(lang)
  if (c === undefined) {
    c = await load()
    loaded.set(lang, c)
  }
  return c
}

/** Every catalogue, by language tag (the tests' completeness checks; a command loads only its own). */
export async function loadAllCatalogues(): Promise<Record<string, Catalogue>> {
  return Object.fromEntries(await Promise.all(LANGUAGES.map(async l => [l, await loadCatalogue(l)] as const)))
}

/** Right-to-left languages. */
export const RTL = new Set(['fa'])

/** Maps a tag or locale (fa, fa-IR, fa_IR.UTF-8, zh, zh_CN, ZH-cn) to a language the probe speaks, or null. */
export function matchLanguage(tag: string): string | null {
  const t = tag.split('.')[0].replace('_', '-').toLowerCase()
  if (t === '' || t === 'c' || t === 'posix') return null
  const exact = LANGUAGES.find(l => l.toLowerCase() === t)
  if (exact !== undefined) return exact
  const base = t.split('-')[0]
  if (base === 'zh') return t.includes('hant') || /-(tw|hk|mo)$/.test(t) ? null : 'zh-CN'
  return LANGUAGES.find(l => l.toLowerCase() === base) ?? null
}

/** The language to speak: --lang, BLOCKWATCH_LANG, the locale, English. */
export function chooseLanguage(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  for (const [name, value] of [
    ['--lang', flag],
    ['BLOCKWATCH_LANG', env.BLOCKWATCH_LANG]
  ] as const) {
    if (value === undefined || value === '') continue
    const l = matchLanguage(value)
    if (l === null) throw saidError(m => new UsageError(m), 'flags.language', { name, choices: LANGUAGES.join(', '), value: JSON.stringify(value) })
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

/** Values put into a message: strings, and numbers as the code has them. */
export type Values = Record<string, string | number>

/** Translates a key, filling in `{{name}}` values. */
export type Translate = (key: MessageKey, values?: Values) => string

/**
 * The columns a string takes in a terminal: East Asian wide characters take
 * two, the isolates and joiners none (for aligning a table's labels).
 */
export function displayWidth(s: string): number {
  let w = 0
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0
    // biome-ignore lint/suspicious/noMisleadingCharacterClass: ch is one code point; the class lists the zero-width and combining ones
    if (/[\u200B-\u200F\u2066-\u2069\u0300-\u036F\u064B-\u065F]/.test(ch)) continue
    w +=
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6)
        ? 2
        : 1
  }
  return w
}

/** Unicode's first-strong isolate and its end (U+2068, U+2069). */
export const FSI = '\u2068'
export const PDI = '\u2069'

// Characters of right-to-left text (Arabic script, its presentation forms, the joiners) and the isolates themselves.
const RTL_CHAR = '\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\u200C\u200D\u2066-\u2069'
const LTR_RUN = new RegExp(`[^\\s${RTL_CHAR}]+(?:[ \\t]+[^\\s${RTL_CHAR}]+)*`, 'g')
const OPEN = '([{«<'
const CLOSE = ')]}»>'

/**
 * Wraps each run of left-to-right text inside right-to-left text (a
 * command, a flag, a URL, a path, a number) in a first-strong isolate, so
 * that a terminal that applies the bidirectional algorithm shows it whole
 * and in order, its punctuation on the right side. Sentence punctuation at
 * a run's end, and a bracket the run does not close, stay outside.
 */
export function isolateLtrRuns(text: string): string {
  return text.replace(LTR_RUN, run => {
    // Values are isolated when they are put in: placeholders with only punctuation around them need nothing more.
    if (!/[A-Za-z0-9]/.test(run.replace(/\{\{\w+\}\}/g, ''))) return run
    let start = 0
    let end = run.length
    const unpaired = (c: string): boolean => (OPEN.includes(c) ? !run.includes(CLOSE[OPEN.indexOf(c)]) : !run.includes(OPEN[CLOSE.indexOf(c)]))
    while (start < end && ('.,;:!?—'.includes(run[start]) || run[start] === ' ' || ((OPEN + CLOSE).includes(run[start]) && unpaired(run[start])))) start++
    while (end > start && ('.,;:!?—'.includes(run[end - 1]) || ((OPEN + CLOSE).includes(run[end - 1]) && unpaired(run[end - 1])) || run[end - 1] === ' ')) end--
    if (start === end || /^\{\{\w+\}\}$/.test(run.slice(start, end))) return run
    return run.slice(0, start) + FSI + run.slice(start, end) + PDI + run.slice(end)
  })
}

/** A catalogue with every string passed through `f`. */
function mapCatalogue(c: Catalogue, f: (s: string) => string): Catalogue {
  return Object.fromEntries(Object.entries(c).map(([s, keys]) => [s, Object.fromEntries(Object.entries(keys as Record<string, string>).map(([k, v]) => [k, f(v)]))])) as Catalogue
}

/**
 * A translator for one language (English where a key were missing), whose
 * catalogue {@link loadCatalogue} has loaded (English's always is). Values
 * are put in as given: the terminal is not HTML. In a right-to-left
 * language every value, and every run of left-to-right text in the
 * catalogue (commands, flags, URLs, numbers), is wrapped in U+2068…U+2069.
 */
export function translator(lang: string): Translate {
  const catalogue = loaded.get(lang)
  if (catalogue === undefined) throw new TypeError(`the catalogue of ${JSON.stringify(lang)} is not loaded: await loadCatalogue(${JSON.stringify(lang)}) first`)
  const rtl = RTL.has(lang)
  const i = i18next.createInstance()
  const resources: Record<string, { translation: Catalogue }> = { en: { translation: en } }
  if (lang !== 'en') resources[lang] = { translation: rtl ? mapCatalogue(catalogue, isolateLtrRuns) : catalogue }
  void i.init({
    lng: lang,
    fallbackLng: 'en',
    resources,
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false
  })
  return (key, values) => {
    const v: Record<string, string> = {}
    for (const [k, x] of Object.entries(values ?? {})) v[k] = rtl ? FSI + String(x) + PDI : String(x)
    return i.t(key, v) as string
  }
}

/**
 * An error that can be said in the volunteer's language: `say(t)` gives its
 * message in any language, `message` stays English (logs, the outbox's
 * last error, callers that are not a person's terminal).
 */
export interface Said {
  say?: (t: Translate) => string
}

let english: Translate | undefined

/** English, for messages that also go where no volunteer reads them. */
export function inEnglish(key: MessageKey, values?: Values): string {
  english ??= translator('en')
  return english(key, values)
}

/** An error made by `make` with the English message of `key`, said in the volunteer's language by a probe command. */
export function saidError<E extends Error>(make: (message: string) => E, key: MessageKey, values?: Values): E & Said {
  const err = make(inEnglish(key, values)) as E & Said
  err.say = t => t(key, values)
  return err
}

/** An error's message in the volunteer's language when it can say itself ({@link Said}), else its message as it is. */
export function sayError(t: Translate, err: unknown): string {
  const say = (err as Said | null)?.say
  return typeof say === 'function' ? say(t) : err instanceof Error ? err.message : String(err)
}

/**
 * The language a command line asks for: its --lang value (`--lang fa` or
 * `--lang=fa`), else BLOCKWATCH_LANG, else the locale. Read before the
 * flags are parsed, so that an error about another flag is in that
 * language too.
 */
export function languageOf(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  let flag: string | undefined
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--') break
    if (argv[k] === '--lang') flag = argv[k + 1] ?? ''
    else if (argv[k].startsWith('--lang=')) flag = argv[k].slice('--lang='.length)
  }
  return chooseLanguage(flag, env)
}
