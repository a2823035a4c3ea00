#!/usr/bin/env node
// Entry point for the `portwatch` command. The sources are TypeScript run
// through tsx, so a checkout needs no build step. To start fast, a command
// runs from the bundle scripts/build-cli.mjs made (.cache/cli/, built by the
// bootstrap) when its group is in it and every source of that group's part of
// the bundle is unchanged; otherwise, or with PORTWATCH_NO_BUNDLE=1, through tsx.
import { pathToFileURL } from 'node:url';
import { bundleFor } from '../scripts/build-cli.mjs';

const name = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const bundle = name === undefined || process.env.PORTWATCH_NO_BUNDLE === '1' ? null : bundleFor(name);
if (bundle !== null) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
