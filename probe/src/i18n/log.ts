/**
 * The readable log lines of `probe start` and `probe upload` at a terminal,
 * in the volunteer's language. The code logs in English, and the JSON
 * lines (a collector's, a bug report's, the tests') stay English: only the
 * pretty form a person reads is translated, message by message, through
 * the catalogues' `log` section, whose English texts are the messages the
 * code logs (test/probe-volunteer/i18n.test.ts checks that every one is
 * there). A message with a value inside its text stays English.
 */
import type { DestinationStream } from 'pino'
import { en } from './en.ts'
import { inEnglish, type MessageKey, type Translate } from './index.ts'

const BY_TEXT = new Map<string, MessageKey>(Object.entries(en.log).map(([k, text]) => [text, `log.${k}` as MessageKey]))

/** A logged message in the volunteer's language, when the catalogues know it; else as it is. */
export function sayLogMessage(t: Translate, msg: string): string {
  const key = BY_TEXT.get(msg)
  return key === undefined ? msg : t(key)
}

/** A pino destination that translates each entry's `msg`, then writes the entry to `dest` (pino-pretty's stream). */
export function translatingDestination(t: Translate, dest: DestinationStream): DestinationStream {
  return {
    write(line: string): void {
      let out = line
      try {
        const entry = JSON.parse(line) as { msg?: unknown }
        if (typeof entry.msg === 'string' && BY_TEXT.has(entry.msg)) out = JSON.stringify({ ...entry, msg: sayLogMessage(t, entry.msg) }) + '\n'
      } catch {}
      dest.write(out)
    }
  }
}

/**
 * The language of log lines that carry a value inside their text (which
 * the destination cannot translate, such as start's plain-http warning or a
 * refused fingerprint list): the volunteer's in the readable form, English
 * in JSON lines.
 */
export function logLanguage(format: 'json' | 'pretty', t: Translate): Translate {
  return format === 'json' ? inEnglish : t
}
