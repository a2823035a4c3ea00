/**
 * The alerts worker as its own process: `portwatch worker alerts` (built by
 * pipeline/runtime). Kept as a file for process managers and scripts that start
 * `node --import tsx workers/alerts.ts [flags]`; the flags are the command's
 * (`node bin/portwatch.js worker alerts --help`).
 */
process.argv.splice(2, 0, 'worker', 'alerts');
await import('../cli/main.js');
