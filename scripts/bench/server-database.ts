import pg from 'pg';

export interface ServerDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of its own on a PostgreSQL (or TimescaleDB) server, created for
 * one benchmark target and dropped after it: runs never see each other's rows.
 */
export async function serverDatabase(adminUrl: string, prefix: string): Promise<ServerDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
