/**
 * The target lists that ship with the probe. messaging.csv covers WhatsApp,
 * Telegram, Signal, Twitter and Facebook (docs/methodology.md, "The default
 * messaging list"): `probe run` measures it by default, `probe start` with
 * every run once the volunteer consented.
 */
import { fileURLToPath } from 'node:url'

/** The path of the built-in messaging list (a Citizen Lab CSV). */
export const MESSAGING_LIST = fileURLToPath(new URL('./messaging.csv', import.meta.url))
