import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));
/** Debian's python3 sees python3-gi; the pyenv one first on PATH does not. */
const PYTHON = '/usr/bin/python3';

export interface RtspServerOptions {
  /** A fixed port (to restart on the same one); default: a free loopback port. */
  port?: number;
  /** Serve /cam/001../cam/N, the vtest clip each. */
  cams?: number;
  /**
   * Where each /cam/NNN starts in the loop: `clip-start` (default: every camera
   * shows the same moment when connected together) or `random`, a seeded uniform
   * point per camera (independent scenes, as a port's cameras are).
   */
  camStart?: 'clip-start' | 'random';
  /** Seed of `camStart: 'random'` (default 1). */
  seed?: number;
  user?: string;
  password?: string;
  /** With user and password: challenge with Digest (MD5) instead of Basic. */
  digest?: boolean;
  /** More clips: name → H.264 MP4 file (served as recorded, looped). */
  clips?: Record<string, string>;
  /**
   * Extra mounts: path → clip (vtest, frozen, black or a name from `clips`), or
   * the clip and the second to start from (the keyframe at or before it; default 0).
   */
  mounts?: Record<string, string | { clip: string; startSeconds?: number }>;
}

export interface RtspServer {
  port: number;
  /** The second of its clip each mount starts from, for the mounts not starting at 0. */
  starts: Record<string, number>;
  url(path: string): string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts scripts/sim/rtsp-server.py on 127.0.0.1 and resolves once it prints READY. */
export async function startRtspServer(o: RtspServerOptions = {}): Promise<RtspServer> {
  const port = o.port ?? (await freePort());
  const args = [SCRIPT, '--host', '127.0.0.1', '--port', String(port)];
  if (o.cams) args.push('--cams', String(o.cams));
  if (o.camStart) args.push('--cam-start', o.camStart);
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.user && o.password) args.push('--user', o.user, '--password', o.password);
  if (o.user && o.password && o.digest) args.push('--digest');
  for (const [name, file] of Object.entries(o.clips ?? {})) args.push('--clip', `${name}=${file}`);
  for (const [path, m] of Object.entries(o.mounts ?? {})) {
    const spec = typeof m === 'string' ? m : m.startSeconds !== undefined ? `${m.clip}@${m.startSeconds}` : m.clip;
    args.push('--mount', `${path}=${spec}`);
  }
  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  // If the test process dies without stop(), do not leave the server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const starts: Record<string, number> = {};
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rtsp-server did not start within 20 s: ${stderr}`));
    }, 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/READY port=\d+/.test(out)) {
        for (const [, path, at] of /^STARTS (.*)$/m.exec(out)?.[1]?.matchAll(/(\S+)=(\S+)/g) ?? []) starts[path!] = Number(at);
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp-server exited with ${code} before READY: ${stderr}`));
    });
  });
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      r();
    }),
  );
  return {
    port,
    starts,
    url: (path: string) => {
      const auth = o.user && o.password ? `${o.user}:${o.password}@` : '';
      return `rtsp://${auth}127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(hard);
    },
  };
}
