import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../sim/rtsp-sim.js';

/**
 * A PostgreSQL cluster of its own: `initdb` into a temporary folder, trust
 * authentication, a free loopback port, its socket in its own folder. The
 * machine's server (if any) is never touched, and a fresh Debian machine, whose
 * server uses password authentication and has no `test` database, needs
 * nothing configured. As root the cluster runs as the unprivileged `postgres`
 * user (PostgreSQL refuses to run as root).
 */
export interface PrivatePostgresOptions {
  /** Names the temporary folder, to tell clusters apart in `ps`. */
  name: string;
  /** Libraries to preload (`timescaledb`). */
  preload?: string[];
  /** PostgreSQL major version; default: the newest one installed. */
  major?: number;
  /** Extra `postgresql.conf` lines. */
  settings?: Record<string, string | number>;
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/test */
  url: string;
  port: number;
  dataDir: string;
  bin: string;
  /** Stop the server (fast shutdown: clients are disconnected, the data is kept); `start()` brings it back. */
  pause(): void;
  start(): Promise<void>;
  running(): boolean;
  /** Stop the server and delete its folder. */
  stop(): Promise<void>;
}

/** The bin folder of an installed PostgreSQL server, newest major first, or null. */
export function postgresBin(major?: number): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .map(Number)
    .filter((m) => Number.isInteger(m) && (major === undefined || m === major) && existsSync(join(root, String(m), 'bin', 'initdb')))
    .sort((a, b) => b - a);
  return majors.length ? join(root, String(majors[0]), 'bin') : null;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as `postgres` when we are root. */
function runAsOwner(bin: string, args: string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return spawnSync(cmd as string, argv as string[], { encoding: 'utf8', timeout: timeoutMs, cwd: '/' });
}

function check(r: SpawnSyncReturns<string>, what: string): void {
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status}: ${(r.stderr || r.stdout).trim().slice(-1500)}`);
}

export async function startPrivatePostgres(options: PrivatePostgresOptions): Promise<PrivatePostgres> {
  const bin = postgresBin(options.major);
  if (!bin) {
    throw new Error(
      `no PostgreSQL server${options.major ? ` ${options.major}` : ''} installed (no /usr/lib/postgresql/*/bin/initdb): ` +
        'install it with `apt-get install postgresql`, or point PG_TEST_URL at a server with trust authentication',
    );
  }
  const dataDir = mkdtempSync(join(tmpdir(), `portwatch-pg-${options.name}-`));
  if (isRoot()) {
    const owner = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (owner.status !== 0) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (the postgresql package creates it)');
    const uid = Number(owner.stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dataDir, uid, gid);
  }
  check(runAsOwner(join(bin, 'initdb'), ['-D', join(dataDir, 'data'), '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']), 'initdb');
  const port = await freePort();
  const conf: Record<string, string | number> = {
    listen_addresses: "'127.0.0.1'",
    port,
    unix_socket_directories: `'${dataDir}'`,
    max_connections: 200,
    // Test data: a crash may lose it. A clean stop (pause) loses nothing.
    fsync: 'off',
    full_page_writes: 'off',
    shared_buffers: "'64MB'",
    ...(options.preload?.length ? { shared_preload_libraries: `'${options.preload.join(',')}'` } : {}),
    ...options.settings,
  };
  writeFileSync(
    join(dataDir, 'data', 'postgresql.auto.conf'),
    Object.entries(conf)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  const log = join(dataDir, 'server.log');
  if (isRoot()) {
    writeFileSync(log, '');
    const st = spawnSync('stat', ['-c', '%u %g', dataDir], { encoding: 'utf8' }).stdout.trim().split(' ').map(Number);
    chownSync(log, st[0]!, st[1]!);
  }
  const pgCtl = (args: string[]) => runAsOwner(join(bin, 'pg_ctl'), ['-D', join(dataDir, 'data'), ...args], 90_000);
  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  let up = false;

  async function start(): Promise<void> {
    check(pgCtl(['-l', log, '-w', '-t', '60', 'start']), `starting the private PostgreSQL (${options.name}; log ${log})`);
    up = true;
  }
  function pause(): void {
    check(pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']), `stopping the private PostgreSQL (${options.name})`);
    up = false;
  }

  try {
    await start();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE test');
    } finally {
      await admin.end();
    }
  } catch (err) {
    if (up) pgCtl(['-m', 'immediate', 'stop']);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dataDir,
    bin,
    pause,
    start,
    running: () => up,
    async stop() {
      if (up) pgCtl(['-m', 'immediate', '-w', 'stop']);
      up = false;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
