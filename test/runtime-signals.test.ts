/**
 * A second signal exits at once, and the worker's child processes (ffmpeg)
 * go with it instead of running on without a parent.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childPids, killChildren, processName, processRunning } from '../pipeline/runtime/index.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { vtestSiteText } from './helpers/vtest-site.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pw-signals-'));
let rtsp: RtspServer;
beforeAll(async () => void (rtsp = await startRtspServer()), 60_000);
afterAll(async () => {
  await rtsp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const comm = processName;
const running = processRunning;

describe('signals', () => {
  it('SIGTERM then SIGINT: exits at once with code 1, and its ffmpeg children are gone', async () => {
    const site = join(dir, 'site.yaml');
    writeFileSync(
      site,
      `${vtestSiteText({ name: 'Signals', cameraUrl: rtsp.url('/vtest') })}workers:
  camera: { decode: every-keyframe }
`,
    );
    const child = spawn(process.execPath, ['bin/portwatch.js', 'worker', 'camera', '--site', site, '--db-dir', 'memory://', '--data-dir', dir], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: '', DATABASE_URL: '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let ffmpegs: number[] = [];
    const t0 = Date.now();
    while (ffmpegs.length === 0) {
      if (Date.now() - t0 > 90_000 || child.exitCode !== null) throw new Error(`no ffmpeg child appeared: ${stderr.slice(-1500)}`);
      await sleep(250);
      ffmpegs = childPids(child.pid!).filter((p) => comm(p) === 'ffmpeg');
    }
    child.kill('SIGTERM');
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr.slice(-1500)).toBe(1);
    expect(stderr).toMatch(/again while stopping: exiting now/);
    await sleep(200);
    for (const pid of ffmpegs) expect(running(pid), `ffmpeg ${pid} still running`).toBe(false);
  }, 150_000);

  it('killChildren ends the children a process leaves behind, even ones that hold no pipe to it', async () => {
    // A parent whose child ignores its stdio, as a stuck ffmpeg or simulator would not notice our exit.
    const parent = spawn(process.execPath, ['-e', "require('node:child_process').spawn('sleep', ['120'], { stdio: 'ignore' }); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
    try {
      let kids: number[] = [];
      const t0 = Date.now();
      while (kids.length === 0 && Date.now() - t0 < 10_000) {
        await sleep(100);
        kids = childPids(parent.pid!).filter((p) => comm(p) === 'sleep');
      }
      expect(kids).toHaveLength(1);
      expect(killChildren(parent.pid!)).toBe(1);
      await sleep(200);
      expect(running(kids[0]!)).toBe(false);
      expect(childPids(parent.pid!).filter(running)).toEqual([]);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
