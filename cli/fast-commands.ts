import { reportCommandError } from './cli-error.js';
import { aisDecode, parseAisDecodeArgs } from './commands/ais-decode.js';

/**
 * Commands bin/portwatch.js starts without cli/main.ts: no commander, no
 * command registry, only the code the command runs. A 30,000-line
 * `ais decode` takes a few tenths of a second, and loading commander and the
 * registry was a tenth of that (docs/ais.md, "Start-up").
 *
 * Returns false, having done nothing, when `argv` (the arguments after the
 * program name) is not a plain run of one of these commands; the caller then
 * runs cli/main.ts, which parses and answers as for every other command.
 */
export async function runFastCommand(argv: readonly string[]): Promise<boolean> {
  if (argv[0] !== 'ais' || argv[1] !== 'decode') return false;
  const parsed = parseAisDecodeArgs(argv.slice(2));
  if (parsed === null) return false;
  try {
    await aisDecode(parsed.file, parsed.flags);
  } catch (err) {
    reportCommandError(err);
  }
  return true;
}
