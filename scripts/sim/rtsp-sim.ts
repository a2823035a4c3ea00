import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));
/** Debian's python3 sees python3-gi; the pyenv one first on PATH does not. */
const PYTHON = '/usr/bin/python3';

export interface RtspServerOptions {
  /** A fixed port (to restart on the same one); default: a free loopback port. */
  port?: number;
  cams?: number;
  user?: string;
  password?: string;
  /** With user and password: challenge with Digest (MD5) instead of Basic. */
  digest?: boolean;
  /** More clips: name → H.264 MP4 file (served as recorded, looped). */
  clips?: Record<string, string>;
  /** Extra mounts: path → clip (vtest, frozen, black or a name from `clips`). */
  mounts?: Record<string, string>;
}

export interface RtspServer {
  port: number;
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
  if (o.user && o.password) args.push('--user', o.user, '--password', o.password);
  if (o.user && o.password && o.digest) args.push('--digest');
  for (const [name, file] of Object.entries(o.clips ?? {})) args.push('--clip', `${name}=${file}`);
  for (const [path, clip] of Object.entries(o.mounts ?? {})) args.push('--mount', `${path}=${clip}`);
  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  // If the test process dies without stop(), do not leave the server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rtsp-server did not start within 20 s: ${stderr}`));
    }, 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/READY port=\d+/.test(out)) {
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
