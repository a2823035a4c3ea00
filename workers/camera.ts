/**
 * The camera worker as its own process: `portwatch worker camera` (cli/commands/run.ts,
 * built by pipeline/runtime). Kept as a file for process managers and scripts
 * that start `node --import tsx workers/camera.ts [flags]`; the flags are the command's
 * (`node bin/portwatch.js worker camera --help`).
 */
process.argv.splice(2, 0, 'worker', 'camera');
await import('../cli/main.js');
