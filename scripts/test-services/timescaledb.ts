import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureDebianPackages } from './debian-packages.js';

/**
 * TimescaleDB for a PostgreSQL server on this machine, built from the vendored
 * source release (TimescaleDB is not packaged for Debian 12). Built once per
 * machine in a cache folder outside the repository, under a lock so two test
 * runs starting together build it once, and installed into the server's
 * extension folders. Production runs the official TimescaleDB image instead.
 */
export const TIMESCALEDB_VERSION = '2.28.3';
/** The PostgreSQL major the vendored release builds against (Debian 12's server). */
export const TIMESCALEDB_PG_MAJOR = 15;

export const TIMESCALEDB_BUILD_PACKAGES = ['cmake', 'gcc', 'make', `postgresql-server-dev-${TIMESCALEDB_PG_MAJOR}`, 'libssl-dev'];

export function defaultTarball(repoRoot: string): string {
  return resolve(repoRoot, '..', 'shared', 'vendor', `timescaledb-${TIMESCALEDB_VERSION}.tar.gz`);
}

function pgConfig(): string {
  return `/usr/lib/postgresql/${TIMESCALEDB_PG_MAJOR}/bin/pg_config`;
}

/** True when this version's extension files are in the server's extension folder. */
export function timescaledbInstalled(): boolean {
  const r = spawnSync(pgConfig(), ['--sharedir'], { encoding: 'utf8' });
  const share = r.status === 0 ? r.stdout.trim() : `/usr/share/postgresql/${TIMESCALEDB_PG_MAJOR}`;
  return existsSync(join(share, 'extension', `timescaledb--${TIMESCALEDB_VERSION}.sql`));
}

export type TimescaleProvision = { ok: true; built: boolean } | { ok: false; reason: string };

/**
 * Makes sure TimescaleDB is installed, building it from `tarball` when it is
 * not. Never throws: a machine that cannot have it gets the reason.
 */
export function ensureTimescaleDb(options: { tarball: string; cacheDir?: string; log: (line: string) => void }): TimescaleProvision {
  if (timescaledbInstalled()) return { ok: true, built: false };
  if (!existsSync(options.tarball)) return { ok: false, reason: `the TimescaleDB source ${options.tarball} is not there` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, reason: `installing a server extension needs root; build ${options.tarball} by hand (see its README) or set TSDB_TEST_URL` };
  }
  try {
    ensureDebianPackages([`postgresql-${TIMESCALEDB_PG_MAJOR}`, ...TIMESCALEDB_BUILD_PACKAGES], options.log);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const cacheDir = options.cacheDir ?? (existsSync('/var/cache') ? '/var/cache/portwatch' : join(homedir(), '.cache', 'portwatch'));
  mkdirSync(cacheDir, { recursive: true });
  const src = join(cacheDir, `timescaledb-${TIMESCALEDB_VERSION}`);
  options.log(`building TimescaleDB ${TIMESCALEDB_VERSION} from ${options.tarball} in ${src} (once per machine, about 2 minutes on 2 cores)…`);
  const started = Date.now();
  // Under flock, and checking again inside it: a run that waited finds it installed.
  const script = [
    'set -e',
    `if [ -f "$(${pgConfig()} --sharedir)/extension/timescaledb--${TIMESCALEDB_VERSION}.sql" ]; then exit 0; fi`,
    `rm -rf "${src}"`,
    `tar xzf "${options.tarball}" -C "${cacheDir}"`,
    `cd "${src}"`,
    `./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF -DPG_CONFIG=${pgConfig()} > "${cacheDir}/timescaledb-build.log" 2>&1`,
    `make -C build -j2 install >> "${cacheDir}/timescaledb-build.log" 2>&1`,
  ].join('\n');
  const r = spawnSync('flock', [join(cacheDir, 'timescaledb.lock'), 'bash', '-c', script], { encoding: 'utf8', timeout: 20 * 60_000 });
  if (r.status !== 0 || !timescaledbInstalled()) {
    return { ok: false, reason: `building TimescaleDB failed (exit ${r.status ?? r.signal}${r.error ? `, ${r.error.message}` : ''}); see ${cacheDir}/timescaledb-build.log` };
  }
  options.log(`TimescaleDB ${TIMESCALEDB_VERSION} installed (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return { ok: true, built: true };
}
