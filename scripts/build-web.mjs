#!/usr/bin/env node
// Builds the command center (web/) into web/dist, the folder the API serves.
// Plain Node so the bootstrap can call it before anything else is compiled;
// it rebuilds only when the hash of web/'s sources differs from the one the
// last build wrote, like the models.
//
//   node scripts/build-web.mjs           build when the sources changed
//   node scripts/build-web.mjs --force   build anyway
//   node scripts/build-web.mjs --check   exit 1 when a build is due, build nothing
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const dist = join(web, 'dist');
const HASH_FILE = join(dist, '.sources.sha256');
const args = new Set(process.argv.slice(2));

/** Every file the bundle is made of, in a stable order: web/ minus dist, plus the versions of the libraries. */
export function webSourceHash() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (p === dist || name === 'node_modules') continue;
      if (statSync(p).isDirectory()) walk(p);
      else h.update(relative(web, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  walk(web);
  for (const pkg of ['preact', 'uplot', 'esbuild']) {
    const file = join(root, 'node_modules', pkg, 'package.json');
    if (existsSync(file)) h.update(`${pkg}@${JSON.parse(readFileSync(file, 'utf8')).version}`);
  }
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  return h.digest('hex');
}

export function webBuildDue() {
  return !existsSync(HASH_FILE) || readFileSync(HASH_FILE, 'utf8').trim() !== webSourceHash();
}

export async function buildWeb() {
  const { build } = await import('esbuild');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const result = await build({
    entryPoints: { app: join(web, 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: dist,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // The page runs on a port network without internet: nothing may be fetched from elsewhere.
    external: [],
  });
  writeFileSync(join(dist, 'index.html'), readFileSync(join(web, 'index.html')));
  writeFileSync(HASH_FILE, `${webSourceHash()}\n`);
  return Object.keys(result.metafile.outputs).map((f) => relative(root, f));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (args.has('--check')) process.exit(webBuildDue() ? 1 : 0);
  if (args.has('--force') || webBuildDue()) {
    const files = await buildWeb();
    process.stderr.write(`build-web: ${files.join(', ')}\n`);
  }
}
