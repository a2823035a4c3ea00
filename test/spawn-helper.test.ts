import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand, SpawnHelper } from '../pipeline/video/index.js';
import { processRunning } from '../pipeline/runtime/child-processes.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-spawn-helper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = fileURLToPath(new URL('..', import.meta.url));

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SpawnHelper', () => {
  it('runs a command from the helper, not from this process, and tells its exit code and stderr', async () => {
    const helper = new SpawnHelper();
    try {
      const r = await helper.run('sh', ['-c', 'echo "parent $PPID" >&2; echo oops >&2; exit 3']);
      expect(r.code).toBe(3);
      expect(r.signal).toBeNull();
      const parent = Number(/parent (\d+)/.exec(r.stderr)?.[1]);
      expect(parent).toBeGreaterThan(0);
      expect(parent).not.toBe(process.pid);
      expect(r.stderr).toMatch(/oops\n$/);
      // Run directly, the same command's parent is this process.
      const direct = await runCommand('sh', ['-c', 'echo "parent $PPID" >&2']);
      expect(direct.stderr).toBe(`parent ${process.pid}\n`);
      // Commands run side by side, each answered with its own result.
      const many = await Promise.all([1, 2, 3].map((n) => helper.run('sh', ['-c', `sleep 0.${n}; exit ${n}`])));
      expect(many.map((m) => m.code)).toEqual([1, 2, 3]);
      expect(helper.stats()).toEqual({ commands: 4, starts: 1 });
    } finally {
      await helper.close();
    }
  });

  it('rejects a command that cannot be started, with the reason', async () => {
    const helper = new SpawnHelper();
    try {
      await expect(helper.run('/nonexistent/ffmpeg', ['-version'])).rejects.toThrow(/ENOENT/);
      await expect(runCommand('/nonexistent/ffmpeg', ['-version'])).rejects.toThrow(/ENOENT/);
      // The helper survives it.
      expect((await helper.run('true', [])).code).toBe(0);
      expect(helper.stats().starts).toBe(1);
    } finally {
      await helper.close();
    }
  });

  it('a helper that dies fails the commands it held and is started again on the next one', async () => {
    const helper = new SpawnHelper();
    try {
      const pidFile = join(dir, 'helper.pid');
      const held = helper.run('sh', ['-c', `echo $PPID > ${pidFile}; exec sleep 30`]);
      await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      await expect(held).rejects.toThrow(/spawn helper ended \(SIGKILL\) before the command did/);
      expect((await helper.run('sh', ['-c', 'exit 7'])).code).toBe(7);
      expect(helper.stats().starts).toBe(2);
    } finally {
      await helper.close();
    }
  });

  it('close kills the commands still running and refuses new ones', async () => {
    const helper = new SpawnHelper();
    const pidFile = join(dir, 'sleep.pid');
    const running = helper.run('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`]);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    expect(processRunning(sleeper)).toBe(true);
    await helper.close();
    await expect(running).rejects.toThrow(/spawn helper ended/);
    await until(() => !processRunning(sleeper));
    await expect(helper.run('true', [])).rejects.toThrow(/spawn helper closed/);
  });

  it('an idle helper does not keep its process alive; a command it runs does until it ends', async () => {
    // A process that runs one 0.5 s command through a helper and then has nothing left to do.
    const script = `
      const { SpawnHelper } = await import('./pipeline/video/spawn-helper.ts');
      const h = new SpawnHelper();
      h.run('sh', ['-c', 'sleep 0.5; exit 4']).then((r) => console.log('code', r.code));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the process was kept alive by its idle helper'));
      }, 20_000);
      child.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    expect(out).toBe('code 4\n');
  }, 30_000);
});
