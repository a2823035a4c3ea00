import { Command, CommanderError } from 'commander';
import { registerConfigCommands } from './commands/config.js';
import { registerDbCommands } from './commands/db.js';
import { registerAisCommands } from './commands/ais.js';
import { registerDetectCommand } from './commands/detect.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { CliError } from './cli-error.js';

const program = new Command('portwatch')
  .description('Seaport watch: cameras and AIS feeds to events, alerts, risk and inspector dispatch')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

registerConfigCommands(program);
registerDbCommands(program);
registerAisCommands(program);
registerDetectCommand(program);
registerAnalyzeCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version arrive here too, with exit code 0.
    process.exitCode = err.exitCode;
  } else if (err instanceof CliError) {
    process.stderr.write(`portwatch: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`portwatch: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
