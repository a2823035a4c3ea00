import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { freePort } from '../sim/rtsp-sim.js';

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops it cleanly (SIGTERM: the append-only file is complete). */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), as a crash or a pulled cable would: for outage tests. */
  kill(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Default: a free port. Pass the port of a killed instance to bring "the same Redis" back. */
  port?: number;
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    s.setTimeout(500);
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('PONG')) (s.destroy(), resolve(true));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

/**
 * A Redis of the demo's own on a free loopback port, so `npm run demo` needs
 * no Redis set up and never touches one that holds somebody's data. It keeps
 * its append-only file under `dir`, as production Redis for BullMQ should,
 * so a restart on the same port and folder brings back what was written.
 */
export async function startPrivateRedis(dir: string, options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot start redis-server (${err.message}); run \`npm run bootstrap\` to install it`))),
  );
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start: ${stderr.trim()}`);
    if (await Promise.race([pong(port), failed])) {
      return { url: `redis://127.0.0.1:${port}`, port, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on 127.0.0.1:${port} within 5 s: ${stderr.trim()}`);
}
