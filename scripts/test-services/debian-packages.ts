import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Installs the Debian packages among `packages` that are missing, the way
 * `scripts/bootstrap.mjs` does for the demo's: one dpkg-query, apt-get only for
 * what is missing, `apt-get update` once when the install fails (a fresh
 * machine has no package lists). Throws with the command to run by hand when
 * it cannot (not root, not Debian, no network).
 */
export function ensureDebianPackages(packages: readonly string[], log: (line: string) => void): void {
  if (!existsSync('/usr/bin/dpkg-query')) throw new Error(`not a Debian system: install the equivalents of ${packages.join(', ')} yourself`);
  const q = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], { encoding: 'utf8' });
  const installed = new Set(
    q.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  const missing = packages.filter((p) => !installed.has(p));
  if (missing.length === 0) return;
  const byHand = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) throw new Error(`missing Debian packages ${missing.join(' ')}: install them with \`sudo ${byHand}\``);
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { encoding: 'utf8', env, timeout: 600_000 });
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8', env, timeout: 300_000 });
    r = install();
  }
  if (r.status !== 0) throw new Error(`apt-get could not install ${missing.join(' ')}: ${(r.stderr || r.stdout).trim().slice(-800)}; run \`${byHand}\` by hand`);
}
