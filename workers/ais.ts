/**
 * The ais worker as its own process: `portwatch worker ais` (cli/commands/run.ts,
 * built by pipeline/runtime). Kept as a file for process managers and scripts
 * that start `node --import tsx workers/ais.ts [flags]`; the flags are the command's
 * (`node bin/portwatch.js worker ais --help`).
 */
process.argv.splice(2, 0, 'worker', 'ais');
await import('../cli/main.js');
