#!/usr/bin/env node
// Builds the start-up bundle of the `portwatch` command (.cache/cli/): the CLI
// compiled once by esbuild, so a command does not pay for tsx compiling its
// TypeScript on every start. bin/portwatch.js runs a command from the bundle
// only while every source the bundle was built from is unchanged (size and
// mtime recorded here), and through tsx otherwise: the bundle is never stale.
// Command groups whose code locates files next to its own source
// (`import.meta`, e.g. model folders, worker threads) always run through tsx.
// The bootstrap calls this; it rebuilds only when a source changed.
//
//   node scripts/build-cli.mjs           build when a source changed
//   node scripts/build-cli.mjs --force   build anyway
//   node scripts/build-cli.mjs --check   exit 1 when a build is due, build nothing
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.cache', 'cli');
const MANIFEST = join(out, 'manifest.json');
const MAIN = join(root, 'cli', 'main.ts');
const SELF = fileURLToPath(import.meta.url);

/** Command groups of cli/main.ts: `group('name', async () => (await import('./commands/x.js'))…)`. */
function commandGroups(mainText) {
  const groups = [];
  for (const m of mainText.matchAll(/group\(\s*'([^']+)'\s*,\s*async\s*\(\)\s*=>\s*\(await import\('([^']+)'\)\)/g)) {
    groups.push({ name: m[1], module: join(root, 'cli', m[2].replace(/\.js$/, '.ts')) });
  }
  return groups;
}

/** [size, mtimeMs] of a file, the fingerprint bin/portwatch.js compares. */
function stamp(file) {
  const st = statSync(file);
  return [st.size, st.mtimeMs];
}

/** True when the bundle exists and none of its sources changed since it was built. */
export function bundleIsFresh() {
  if (!existsSync(MANIFEST)) return false;
  try {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    for (const [file, [size, mtime]] of Object.entries(manifest.inputs)) {
      const [s, m] = stamp(join(root, file));
      if (s !== size || m !== mtime) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function buildBundle() {
  const { build } = await import('esbuild');
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' };
  const groups = commandGroups(readFileSync(MAIN, 'utf8'));
  const bundled = [];
  const tsxOnly = new Set();
  for (const g of groups) {
    if (!existsSync(g.module)) continue;
    const r = await build({ ...common, entryPoints: [g.module], write: false, metafile: true });
    const usesOwnLocation = Object.keys(r.metafile.inputs).some((f) => readFileSync(join(root, f), 'utf8').includes('import.meta'));
    if (usesOwnLocation) tsxOnly.add(g.module);
    else bundled.push(g.name);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const r = await build({
    ...common,
    entryPoints: [MAIN],
    outdir: out,
    splitting: true,
    metafile: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [
      {
        name: 'tsx-only-groups',
        setup(b) {
          b.onResolve({ filter: /commands\// }, (args) => {
            const path = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
            return tsxOnly.has(path) ? { path, namespace: 'tsx-only' } : undefined;
          });
          b.onLoad({ filter: /.*/, namespace: 'tsx-only' }, (args) => ({
            contents: `throw new Error(${JSON.stringify(`${relative(root, args.path)} is not in the start-up bundle; bin/portwatch.js runs it through tsx`)});`,
            loader: 'js',
          }));
        },
      },
    ],
  });
  const inputs = {};
  for (const f of [...Object.keys(r.metafile.inputs).filter((f) => !f.startsWith('tsx-only:')), relative(root, SELF), relative(root, MAIN)]) {
    inputs[f] = stamp(join(root, f));
  }
  for (const m of tsxOnly) inputs[relative(root, m)] = stamp(m);
  const esbuildVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  writeFileSync(MANIFEST, JSON.stringify({ entry: 'main.js', groups: bundled, esbuild: esbuildVersion, inputs }, null, 1));
  return bundled;
}

if (process.argv[1] === SELF) {
  const args = new Set(process.argv.slice(2));
  const due = args.has('--force') || !bundleIsFresh();
  if (args.has('--check')) process.exit(due ? 1 : 0);
  if (due) {
    const t0 = Date.now();
    const groups = await buildBundle();
    process.stderr.write(`build-cli: bundled ${groups.join(', ')} into .cache/cli in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
}
