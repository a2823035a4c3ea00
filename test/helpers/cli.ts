import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `portwatch ARGS` through the real CLI entry, as an operator runs it, with exactly the environment given. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The documented environment for the example site (config/site.example.env). */
export function exampleEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync('config/site.example.env', 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}
