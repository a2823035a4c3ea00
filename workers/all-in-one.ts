/**
 * Everything the site needs in one process: `portwatch run` (cli/commands/run.ts,
 * built by pipeline/runtime). The embedded database can only be opened by one
 * process, so the demo and small sites run this. Flags: `node bin/portwatch.js run --help`.
 */
process.argv.splice(2, 0, 'run');
await import('../cli/main.js');
