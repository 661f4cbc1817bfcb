/**
 * `blockwatch probe …`: routes to one module per subcommand under
 * probe/src/commands/. Only the command that runs is loaded.
 */
import { UsageError, type Subcommand } from '../../shared/src/args.ts'
import { probeCommand, setCommandName } from './i18n/command.ts'

const SUBCOMMANDS: Record<string, Subcommand> = {
  run: async () => await import('./commands/run.ts'),
  init: async () => await import('./commands/init.ts'),
  start: async () => await import('./commands/start.ts'),
  status: async () => await import('./commands/status.ts'),
  upload: async () => await import('./commands/upload.ts'),
  export: async () => await import('./commands/export.ts')
}

/**
 * Runs `blockwatch probe …` as shared/src/args.ts's dispatch does, with the
 * help and an unknown subcommand said in the language of --lang (before or
 * after the subcommand), BLOCKWATCH_LANG or the locale. `command` is how
 * the volunteer ran it, which the help and the hints name: `blockwatch
 * probe` in the repository, `blockwatch-probe` from the installed package.
 */
export async function main(argv: string[], command = 'blockwatch probe'): Promise<number> {
  setCommandName(command)
  const lead = argv[0] === '--lang' ? argv.slice(0, 2) : argv[0]?.startsWith('--lang=') === true ? argv.slice(0, 1) : []
  const [sub, ...rest] = argv.slice(lead.length)
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    return await probeCommand(argv, async ({ t }) => {
      process.stdout.write(t('help.probe'))
      return sub === undefined ? 2 : 0
    })
  }
  const entry = SUBCOMMANDS[sub]
  if (entry === undefined) {
    return await probeCommand(argv, async ({ t }) => {
      throw new UsageError(t('probe.unknownSubcommand', { name: JSON.stringify(sub), choices: Object.keys(SUBCOMMANDS).join(', ') }))
    })
  }
  return await (await entry()).main([...rest, ...lead])
}
