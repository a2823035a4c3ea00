/**
 * The dispatch worker as its own process: `portwatch worker dispatch` (built by
 * pipeline/runtime). Kept as a file for process managers and scripts that start
 * `node --import tsx workers/dispatch.ts [flags]`; the flags are the command's
 * (`node bin/portwatch.js worker dispatch --help`).
 */
process.argv.splice(2, 0, 'worker', 'dispatch');
await import('../cli/main.js');
