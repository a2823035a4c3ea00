import { Command, CommanderError } from 'commander';
import { reportCommandError } from './cli-error.js';

const program = new Command('portwatch')
  .description('Seaport watch: cameras and AIS feeds to events, alerts, risk and inspector dispatch')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

type Register = (program: Command) => void;
const groups = new Map<string, () => Promise<Register>>();
/**
 * Registers a command group by its top-level command name. Its module is imported only when
 * that command runs (or for help and unknown commands, which need them all), so a short command
 * such as `ais decode` does not pay for loading the camera, model or database code.
 * Add a group with one line below: group('name', async () => (await import('./commands/name.js')).registerNameCommands);
 */
function group(name: string, load: () => Promise<Register>): void {
  groups.set(name, load);
}

group('config', async () => (await import('./commands/config.js')).registerConfigCommands);
group('db', async () => (await import('./commands/db.js')).registerDbCommands);
group('ais', async () => (await import('./commands/ais.js')).registerAisCommands);
group('detect', async () => (await import('./commands/detect.js')).registerDetectCommand);
group('analyze', async () => (await import('./commands/analyze.js')).registerAnalyzeCommand);
group('alerts', async () => (await import('./commands/alerts.js')).registerAlertsCommands);
group('run', async () => (await import('./commands/run.js')).registerRunCommands);
group('worker', async () => (await import('./commands/run.js')).registerRunCommands);
group('audit', async () => (await import('./commands/audit.js')).registerAuditCommands);
group('risk', async () => (await import('./commands/risk.js')).registerRiskCommands);
group('draw', async () => (await import('./commands/draw.js')).registerDrawCommands);
group('dispatch', async () => (await import('./commands/dispatch.js')).registerDispatchCommands);
group('declarations', async () => (await import('./commands/declarations.js')).registerDeclarationsCommands);
group('public', async () => (await import('./commands/public.js')).registerPublicCommands);
group('api', async () => (await import('./commands/api.js')).registerApiCommands);
group('token', async () => (await import('./commands/token.js')).registerTokenCommands);
group('query', async () => (await import('./commands/query.js')).registerQueryCommands);

try {
  const name = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  const wanted = name !== undefined && groups.has(name) ? [groups.get(name)!] : [...groups.values()];
  // Several names may share one register function (e.g. `run` and `worker`): each runs once.
  for (const register of new Set(await Promise.all(wanted.map((load) => load())))) register(program);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version arrive here too, with exit code 0.
    process.exitCode = err.exitCode;
  } else {
    reportCommandError(err);
  }
}
