import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleEnv, runCli, type CliRun } from './helpers/cli.js';

/** `portwatch config ...` through the real CLI entry, as an operator runs it. */
const EXAMPLE = 'config/site.example.yaml';

function portwatch(args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  // The run must see exactly the variables the test gives, not the developer's shell.
  for (const name of Object.keys(exampleEnv())) delete env[name];
  Object.assign(env, extraEnv);
  return runCli(args, env);
}

// Each run starts the whole CLI (a few seconds on a busy machine): start them all at once.
const env = exampleEnv();
const runs: Record<string, CliRun> = {};
beforeAll(async () => {
  const plan: Record<string, [string[], Record<string, string>?]> = {
    example: [['config', 'check', EXAMPLE], env],
    strict: [['config', 'check', EXAMPLE]],
    lenient: [['config', 'check', '--allow-missing-env', EXAMPLE]],
    schema: [['config', 'check', 'test/fixtures/config/schema-errors.yaml']],
    syntax: [['config', 'check', 'test/fixtures/config/yaml-syntax.yaml']],
    missing: [['config', 'check', 'no/such/site.yaml']],
    help: [['config', 'check', '--help']],
    show: [['config', 'show', EXAMPLE], env],
  };
  const done = await Promise.all(Object.entries(plan).map(async ([name, [args, extra]]) => [name, await portwatch(args, extra)] as const));
  for (const [name, run] of done) runs[name] = run;
}, 180_000);

describe('portwatch config check', () => {

  it('prints the one-line summary and exits 0 for the example with its documented environment', () => {
    const run = runs.example!;
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`OK ${EXAMPLE}: site "Port of Lanjiang — Haixi terminals", 284 cameras, 20 berths, 598 zones, 84 tripwires, 3 feeds, 30 inspectors\n`);
    expect(run.code).toBe(0);
  });

  it('exits 2 and names each missing variable when the secrets are not set; --allow-missing-env passes with warnings', () => {
    const strict = runs.strict!;
    expect(strict.code).toBe(2);
    const lines = strict.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(6);
    for (const line of lines) expect(line).toMatch(/^config\/site\.example\.yaml:\d+:\d+ [\w.]+: environment variable [A-Z0-9_]+ is not set$/);
    expect(new Set(lines.map((l) => /variable (\w+)/.exec(l)![1])).size).toBe(Object.keys(env).length);
    expect(strict.stderr).toContain('--allow-missing-env');

    const lenient = runs.lenient!;
    expect(lenient.code).toBe(0);
    const out = lenient.stdout.trimEnd().split('\n');
    expect(out.slice(0, -1).every((l) => / warning: environment variable \w+ is not set$/.test(l))).toBe(true);
    expect(out.at(-1)).toBe(`OK ${EXAMPLE}: site "Port of Lanjiang — Haixi terminals", 284 cameras, 20 berths, 598 zones, 84 tripwires, 3 feeds, 30 inspectors, ${lines.length} warnings`);
  });

  it('prints every error of a bad file as FILE:LINE:COLUMN path: reason and exits 2', () => {
    const file = 'test/fixtures/config/schema-errors.yaml';
    const expected = readFileSync('test/fixtures/config/schema-errors.expected', 'utf8').trimEnd().split('\n');
    const run = runs.schema!;
    expect(run.code).toBe(2);
    expect(run.stdout.trimEnd().split('\n')).toEqual(expected.map((l) => `${file}:${l}`));
    expect(run.stderr).toBe(`portwatch: ${file}: ${expected.length} errors\n`);
  });

  it('reports YAML syntax errors with their positions, and a missing file, with exit 2', () => {
    const syntax = runs.syntax!;
    expect(syntax.code).toBe(2);
    expect(syntax.stdout).toBe(
      'test/fixtures/config/yaml-syntax.yaml:4:3 (yaml): Map keys must be unique\ntest/fixtures/config/yaml-syntax.yaml:6:1 (yaml): Tabs are not allowed as indentation\n',
    );
    const missing = runs.missing!;
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('no/such/site.yaml: no such file\n');
  });
});

describe('portwatch config --help', () => {
  it('documents check and its --allow-missing-env option', () => {
    const run = runs.help!;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: portwatch config check [options] <file>');
    expect(run.stdout).toContain('--allow-missing-env');
  });
});

describe('portwatch config show', () => {
  it('prints the expanded config as JSON with credentials redacted', () => {
    const run = runs.show!;
    expect(run.code).toBe(0);
    for (const secret of Object.values(env)) expect(run.stdout).not.toContain(secret);
    const config = JSON.parse(run.stdout) as { cameras: { id: string; streams: { main: string } }[] };
    expect(config.cameras).toHaveLength(284);
    const dock7 = config.cameras.find((c) => c.id === 'dock-007')!;
    expect(dock7.streams.main).toBe('rtsp://inspect:${CAM_07_PASSWORD}@10.21.0.7:554/live/ch00_0');
  });
});
