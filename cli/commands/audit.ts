import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../../pipeline/store/index.js';
import { verifyAuditChain } from '../../pipeline/audit/index.js';
import { CliError } from '../cli-error.js';
import { withStore } from './db.js';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit trail of draws, dispatches, results and alert changes');

  audit
    .command('verify')
    .description('check the whole chain; exit 0 when intact, 1 naming the first entry edited, deleted or reordered')
    .option('--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`)
    .option('--json', 'print the result as JSON')
    .option('--head <hash>', 'a head hash published earlier: fail if it is no longer in the chain (catches a cut-off or rewritten tail)')
    .action(async (opts: { dataDir?: string; json?: boolean; head?: string }) => {
      const result = await withStore(opts, async (store) => {
        const r = await verifyAuditChain(store);
        if (opts.head && !(await store.query('SELECT 1 FROM audit_log WHERE hash = $1', [opts.head])).rows[0]) {
          r.ok = false;
          r.problems.push({ kind: 'deleted', seq: r.head?.seq ?? 0, message: `the published head ${opts.head.slice(0, 12)}… is no longer in the chain: its tail was cut off or rewritten` });
        }
        return r;
      });
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else if (result.ok) process.stdout.write(`audit trail intact: ${result.entries} entries, head ${result.head ? `${result.head.seq} ${result.head.hash}` : '(empty)'}\n`);
      if (!result.ok) {
        if (!opts.json) for (const p of result.problems) process.stderr.write(`audit: ${p.message}\n`);
        throw new CliError(`audit trail broken at entry ${result.problems[0]!.seq}: ${result.problems[0]!.message}`, 1);
      }
    });
}
