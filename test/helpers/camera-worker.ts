import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A throwaway PostgreSQL database on the test server; `drop()` removes it. */
export { createTestDatabase } from './pg-database.js';

export interface LogLine {
  level: number;
  time: string;
  msg: string;
  camera?: string;
  worker?: string;
  [k: string]: unknown;
}

export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  logs: LogLine[];
  /** Last 4 kB of non-JSON stderr (crashes). */
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts workers/camera.ts as its own process; its pino log (JSON on stderr) is collected line by line. */
export function startCameraWorker(id: string, args: string[], env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/camera.ts', '--worker-id', id, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let raw = '';
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      raw = (raw + line + '\n').slice(-4000);
    }
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    id,
    child,
    logs,
    stderr: () => raw,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(hard);
    },
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | null | Promise<T | undefined | false | null>, timeoutMs: number, detail?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
