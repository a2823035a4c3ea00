#!/usr/bin/env node
// Builds the start-up bundle of the `portwatch` command (.cache/cli/): the CLI
// compiled once by esbuild, so a command does not pay for tsx compiling its
// TypeScript on every start. bin/portwatch.js runs a command from the bundle
// only while every source that command's part of the bundle was built from is
// unchanged (size and mtime recorded here), and through tsx otherwise: the
// bundle is never stale.
// Command groups whose code locates files next to its own source
// (`import.meta`, e.g. model folders, worker threads) always run through tsx.
// cli/fast-commands.ts is a second entry: commands bin/portwatch.js starts
// without cli/main.ts and commander (`ais decode`), fresh on their own sources.
// The bootstrap calls this; it rebuilds only when a source changed.
//
//   node scripts/build-cli.mjs           build when a source changed
//   node scripts/build-cli.mjs --force   build anyway
//   node scripts/build-cli.mjs --check   exit 1 when a build is due, build nothing
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.cache', 'cli');
const MANIFEST = join(out, 'manifest.json');
const MAIN = join(root, 'cli', 'main.ts');
const FAST = join(root, 'cli', 'fast-commands.ts');
const SELF = fileURLToPath(import.meta.url);
/** Code that finds files relative to its own source file, which moves in the bundle. */
const OWN_LOCATION = /import\.meta\.(url|dirname|filename)/;

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

/**
 * The bundle entry that can run command group `name`, or null when the group is
 * not bundled or any source of the bundle's common part or of that group changed
 * since the build (bin/portwatch.js then runs it through tsx).
 */
export function bundleFor(name, dir = root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, '.cache', 'cli', 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
  const files = manifest.groups?.[name];
  if (!Array.isArray(files) || !unchanged(manifest, [...manifest.common, ...files], dir)) return null;
  return join(dir, '.cache', 'cli', manifest.entry);
}

/**
 * The bundle entry of cli/fast-commands.ts, or null when it is not built or
 * any of its sources changed since the build (bin/portwatch.js then runs the
 * command through cli/main.ts).
 */
export function fastCommandsBundle(dir = root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, '.cache', 'cli', 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
  const fast = manifest.fast;
  if (fast === undefined || !Array.isArray(fast.files) || !unchanged(manifest, fast.files, dir)) return null;
  return join(dir, '.cache', 'cli', fast.entry);
}

/** True when every file still has the size and mtime the manifest recorded. */
function unchanged(manifest, files, dir) {
  for (const file of files) {
    const recorded = manifest.stamps[file];
    let now;
    try {
      now = stamp(join(dir, file));
    } catch {
      return false;
    }
    if (recorded === undefined || now[0] !== recorded[0] || now[1] !== recorded[1]) return false;
  }
  return true;
}

/** True when the bundle exists and none of its sources changed since it was built. */
function bundleIsFresh() {
  try {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    const fastFresh = !existsSync(FAST) || fastCommandsBundle() !== null;
    return Object.keys(manifest.groups).every((g) => bundleFor(g) !== null) && commandGroups(readFileSync(MAIN, 'utf8')).length > 0 && fastFresh;
  } catch {
    return false;
  }
}

async function buildBundle() {
  const { build } = await import('esbuild');
  const options = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent', absWorkingDir: root };
  const groups = commandGroups(readFileSync(MAIN, 'utf8'));
  const bundled = [];
  const tsxOnly = new Set();
  for (const g of groups) {
    if (!existsSync(g.module)) continue;
    const r = await build({ ...options, entryPoints: [g.module], write: false, metafile: true });
    // Finding packages from the module (createRequire) works from .cache/cli too: node_modules is above both.
    const usesOwnLocation = Object.keys(r.metafile.inputs).some((f) => OWN_LOCATION.test(readFileSync(join(root, f), 'utf8').replaceAll('createRequire(import.meta.url)', '')));
    if (usesOwnLocation) tsxOnly.add(g.module);
    else bundled.push(g.name);
  }
  // Built beside the live bundle and swapped in, so a command starting meanwhile sees one or the other.
  const next = `${out}.${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  const r = await build({
    ...options,
    entryPoints: existsSync(FAST) ? [MAIN, FAST] : [MAIN],
    outdir: next,
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
  // Which sources each command needs: the entry's chunk and the chunks it imports statically,
  // so a change to one group's code does not send the other groups back to tsx.
  const outputs = r.metafile.outputs;
  const closure = (outFile) => {
    const files = new Set();
    const seen = new Set();
    const visit = (o) => {
      if (seen.has(o) || outputs[o] === undefined) return;
      seen.add(o);
      for (const f of Object.keys(outputs[o].inputs)) if (!f.startsWith('tsx-only:')) files.add(f);
      for (const i of outputs[o].imports) if (i.kind === 'import-statement') visit(i.path);
    };
    visit(outFile);
    return files;
  };
  const outputOf = (entry) => Object.keys(outputs).find((o) => outputs[o].entryPoint === entry);
  const common = closure(outputOf(relative(root, MAIN)));
  common.add(relative(root, SELF));
  common.add(relative(root, MAIN));
  const stamps = {};
  for (const f of common) stamps[f] = stamp(join(root, f));
  const groupInputs = {};
  for (const g of groups) {
    if (!bundled.includes(g.name)) continue;
    const files = [...closure(outputOf(relative(root, g.module)))].filter((f) => !common.has(f));
    for (const f of files) stamps[f] ??= stamp(join(root, f));
    groupInputs[g.name] = files;
  }
  // The fast entry's own closure, with this script: a change to cli/main.ts or another group leaves it fresh.
  let fast;
  const fastOutput = existsSync(FAST) ? outputOf(relative(root, FAST)) : undefined;
  if (fastOutput !== undefined) {
    const files = [...closure(fastOutput)];
    const usesOwnLocation = files.some((f) => OWN_LOCATION.test(readFileSync(join(root, f), 'utf8').replaceAll('createRequire(import.meta.url)', '')));
    if (!usesOwnLocation) {
      files.push(relative(root, SELF));
      for (const f of files) stamps[f] ??= stamp(join(root, f));
      fast = { entry: relative(next, join(root, fastOutput)), files };
      bundled.push('the fast commands');
    }
  }
  const esbuildVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  writeFileSync(join(next, 'manifest.json'), JSON.stringify({ entry: 'main.js', esbuild: esbuildVersion, common: [...common], groups: groupInputs, fast, stamps }, null, 1));
  const old = `${out}.old.${process.pid}`;
  if (existsSync(out)) renameSync(out, old);
  renameSync(next, out);
  rmSync(old, { recursive: true, force: true });
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
