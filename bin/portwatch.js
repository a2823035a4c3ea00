#!/usr/bin/env node
// Entry point for the `portwatch` command. The sources are TypeScript run
// through tsx, so a checkout needs no build step. To start fast, a command
// runs from the bundle scripts/build-cli.mjs made (.cache/cli/, built by the
// bootstrap) when its group is in it and every source of that group's part of
// the bundle is unchanged; otherwise, or with PORTWATCH_NO_BUNDLE=1, through tsx.
// A plain `ais decode` starts from the bundle's cli/fast-commands.ts, without
// commander: on a short file, start-up is most of its time.
import { pathToFileURL } from 'node:url';
import { bundleFor, fastCommandsBundle } from '../scripts/build-cli.mjs';

const args = process.argv.slice(2);
const noBundle = process.env.PORTWATCH_NO_BUNDLE === '1';
const fast = !noBundle && args[0] === 'ais' && args[1] === 'decode' ? fastCommandsBundle() : null;
if (fast === null || !(await (await import(pathToFileURL(fast).href)).runFastCommand(args))) {
  const name = args.find((arg) => !arg.startsWith('-'));
  const bundle = name === undefined || noBundle ? null : bundleFor(name);
  if (bundle !== null) {
    await import(pathToFileURL(bundle).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../cli/main.ts');
  }
}
