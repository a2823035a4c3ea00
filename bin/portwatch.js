#!/usr/bin/env node
// Entry point for the `portwatch` command. The sources are TypeScript run
// through tsx, so a checkout needs no build step. To start fast, a command
// runs from the bundle scripts/build-cli.mjs made (.cache/cli/, built by the
// bootstrap) when its group is in it and every source it was built from is
// unchanged; otherwise, or with PORTWATCH_NO_BUNDLE=1, through tsx.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** The bundle's entry URL when it can run this command, else null. */
function freshBundle() {
  if (process.env.PORTWATCH_NO_BUNDLE === '1') return null;
  const name = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (name === undefined) return null;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('.cache/cli/manifest.json', root), 'utf8'));
  } catch {
    return null;
  }
  if (!manifest.groups.includes(name)) return null;
  for (const [file, [size, mtime]] of Object.entries(manifest.inputs)) {
    let st;
    try {
      st = statSync(new URL(file, root));
    } catch {
      return null;
    }
    if (st.size !== size || st.mtimeMs !== mtime) return null;
  }
  return new URL(`.cache/cli/${manifest.entry}`, root);
}

const bundle = freshBundle();
if (bundle !== null) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
