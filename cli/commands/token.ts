import type { Command } from 'commander';
import { ROLES, TokenError, createApiToken, listApiTokens, parseExpiry, revokeApiToken, type Role } from '../../pipeline/api/index.js';
import { DEFAULT_DATA_DIR } from '../../pipeline/store/index.js';
import { withMigratedStore, type DbOptions } from './db.js';
import { CliError } from '../cli-error.js';

const iso = (d: Date | null) => (d ? d.toISOString() : '-');

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens: created here, shown once, stored only as hashes');
  const dataDir = ['--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`] as const;

  token
    .command('create')
    .description('create a token and print it (the only time it is shown)')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .option('--name <name>', 'who or what holds it (default: the role)')
    .option('--company <id>', 'enterprise tokens: the company it may see')
    .option('--inspector <id>', 'inspector tokens: the inspector (site file id)')
    .option('--expires <duration>', '30m, 12h, 90d, 52w or never', '90d')
    .option(...dataDir)
    .option('--json', 'print {token, id, role, ...} as JSON')
    .action(async (o: { role: string; name?: string; company?: string; inspector?: string; expires: string; dataDir?: string; json?: boolean }) => {
      if (!(ROLES as readonly string[]).includes(o.role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`, 2);
      let expiresAt: Date | null;
      try {
        expiresAt = parseExpiry(o.expires);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      await withMigratedStore(o, async (store) => {
        try {
          const { token: secret, info } = await createApiToken(store, { role: o.role as Role, name: o.name ?? o.role, company: o.company ?? null, inspector: o.inspector ?? null, expiresAt });
          if (o.json) process.stdout.write(`${JSON.stringify({ token: secret, id: info.tokenId, name: info.name, role: info.role, company: info.company, inspector: info.inspector, expires_at: iso(info.expiresAt) })}\n`);
          else {
            process.stdout.write(`${secret}\n`);
            process.stderr.write(`token ${info.tokenId} (${info.role}${info.company ? `, company ${info.company}` : ''}${info.inspector ? `, inspector ${info.inspector}` : ''}) expires ${iso(info.expiresAt)}; it is not shown again\n`);
          }
        } catch (err) {
          if (err instanceof TokenError) throw new CliError(err.message, 2);
          throw err;
        }
      });
    });

  token
    .command('list')
    .description('every token: id, name, role, binding, expiry, revoked, last use (never the tokens)')
    .option(...dataDir)
    .option('--json', 'one JSON object per line')
    .action(async (o: DbOptions & { json?: boolean }) => {
      await withMigratedStore(o, async (store) => {
        for (const t of await listApiTokens(store)) {
          if (o.json) process.stdout.write(`${JSON.stringify(t)}\n`);
          else {
            const state = t.revokedAt ? `revoked ${iso(t.revokedAt)}` : t.expiresAt && t.expiresAt.getTime() <= Date.now() ? 'expired' : 'live';
            process.stdout.write(`${t.tokenId}  ${t.role.padEnd(10)} ${t.name}  ${t.company ?? t.inspector ?? ''}  expires ${iso(t.expiresAt)}  ${state}  last used ${iso(t.lastUsedAt)}\n`);
          }
        }
      });
    });

  token
    .command('revoke')
    .description('revoke a token by id or by name (every live token of that name)')
    .argument('<id-or-name>')
    .option(...dataDir)
    .action(async (idOrName: string, o: DbOptions) => {
      await withMigratedStore(o, async (store) => {
        const n = await revokeApiToken(store, idOrName);
        if (n === 0) throw new CliError(`no live token "${idOrName}" (portwatch token list shows them)`, 1);
        process.stdout.write(`revoked ${n} token${n === 1 ? '' : 's'}\n`);
      });
    });
}
