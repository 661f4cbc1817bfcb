/**
 * What every `blockwatch probe …` subcommand shares for speaking the
 * volunteer's language: the language chosen before the flags are parsed,
 * flag errors said in that language, and errors printed in it.
 *
 * The English text of each message is the one the shared helpers
 * (shared/src/args.ts) print, so English output is the same through either
 * path. Flag names, values, file paths and OONI failure strings are put in
 * as values and never translated.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../../../shared/src/args.ts'
import { chooseLanguage, languageOf, loadCatalogue, sayError, translator, type Translate } from './index.ts'

/** The command as a volunteer types it: `blockwatch probe` in the repository, `blockwatch-probe` installed. */
let commandName = 'blockwatch probe'

/** Sets the name the probe's messages give the command (the installed bin says `blockwatch-probe`). */
export function setCommandName(name: string): void {
  commandName = name
}

// `blockwatch probe` where it is the command being typed (before a subcommand, a flag, a
// placeholder, the help's dash, or a closing backtick), not "a blockwatch probe," in prose.
const COMMAND_USE = /blockwatch probe(?=[ \t]+(?:run|init|start|status|upload|export|<|—|--|\[|…)|`)/g

/** A message with `blockwatch probe` as a command renamed to the one the probe runs as. */
export function nameCommand(text: string): string {
  return commandName === 'blockwatch probe' ? text : text.replace(COMMAND_USE, commandName)
}

/** A translator whose messages name the command as it was run. */
function naming(t: Translate): Translate {
  return (key, values) => nameCommand(t(key, values))
}

/** What a command's body gets: the translator and the language tag. */
export interface Speech {
  t: Translate
  lang: string
}

/**
 * Runs a subcommand body in the language argv and the environment ask
 * for. A UsageError prints as one line on stderr (exit code 2), any other
 * error as "blockwatch: …" (exit code 1), as shared/src/args.ts's
 * runCommand does; an error that can say itself (`Said`, index.ts) is said in
 * the volunteer's language.
 */
export async function probeCommand(argv: readonly string[], fn: (s: Speech) => Promise<number>): Promise<number> {
  let lang: string
  try {
    lang = languageOf(argv, process.env)
  } catch (err) {
    // A language the probe does not speak: said in the one it would speak without it.
    const fallback = languageWithout(process.env)
    await loadCatalogue(fallback)
    process.stderr.write(`blockwatch: ${sayError(naming(translator(fallback)), err)}\n`)
    return 2
  }
  // Only this language's catalogue is loaded (and English's, the fallback).
  await loadCatalogue(lang)
  const t = naming(translator(lang))
  try {
    return await fn({ t, lang })
  } catch (err) {
    process.stderr.write(`blockwatch: ${sayError(t, err)}\n`)
    return err instanceof UsageError ? 2 : 1
  }
}

/**
 * The language to say a bad --lang or BLOCKWATCH_LANG in: BLOCKWATCH_LANG
 * when it is good (the flag was the bad one), else the locale, else English.
 */
export function languageWithout(env: NodeJS.ProcessEnv): string {
  try {
    return chooseLanguage(undefined, env)
  } catch {
    return chooseLanguage(undefined, { ...env, BLOCKWATCH_LANG: undefined })
  }
}

/** The --lang flag, which every probe subcommand takes. */
export const LANG_FLAG = { lang: { type: 'string' } } as const

/**
 * Parses argv like shared/src/args.ts's parseFlags. In another language
 * than English, node's own messages for an unknown flag and for a flag
 * without its value are said in that language; in English, and for any
 * other error, node's words stay as they are.
 */
export function parseProbeFlags<T extends NonNullable<ParseArgsConfig['options']>>({ t, lang }: Speech, argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const message = e.message.replace(/^TypeError \[[A-Z_]+\]: /, '')
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1]
    if (lang === 'en' || flag === undefined) throw new UsageError(message)
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(t('flags.unknown', { flag }))
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(message)) throw new UsageError(t('flags.missingValue', { flag }))
    throw new UsageError(message)
  }
}

/** Reads a whole-number flag within [min, max], or throws a UsageError naming the flag and the value, in the volunteer's language. */
export function intFlagSaid(t: Translate, name: string, value: string | undefined, def: number, min: number, max: number): number {
  if (value === undefined) return def
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(t('flags.wholeNumber', { flag: `--${name}`, min, max, value: JSON.stringify(value) }))
  return n
}
