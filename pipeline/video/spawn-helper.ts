import { spawn, type ChildProcess } from 'node:child_process';

/** How a short-lived command ended. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last few kB of what it wrote to stderr. */
  stderr: string;
}

/** Runs a command with no input and its output ignored (it writes files), and says how it ended. */
export type RunCommand = (command: string, args: readonly string[]) => Promise<CommandResult>;

/** The stderr kept per command: ffmpeg's reason is in its last lines. */
const STDERR_TAIL = 4096;

/** Runs `command` from this process (a child of it). Rejects when it cannot be started (not installed). */
export const runCommand: RunCommand = (command, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });

/**
 * The helper's own program (plain JavaScript, given to `node -e`: no file to
 * find next to a bundle). It runs each command it is sent, answers with how
 * it ended, and when its parent goes away kills what still runs and exits.
 */
const HELPER_SOURCE = `
const { spawn } = require('node:child_process');
const running = new Map();
process.on('disconnect', () => {
  for (const child of running.values()) child.kill('SIGKILL');
  process.exit(0);
});
process.on('message', ({ id, command, args }) => {
  let stderr = '';
  let answered = false;
  const answer = (m) => {
    if (answered) return;
    answered = true;
    running.delete(id);
    if (process.connected) process.send({ id, ...m });
  };
  let child;
  try {
    child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    return answer({ error: err.message });
  }
  running.set(id, child);
  child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-${STDERR_TAIL})));
  child.once('error', (err) => answer({ error: err.message }));
  child.once('close', (code, signal) => answer({ code, signal, stderr }));
});
`;

interface Pending {
  resolve: (r: CommandResult) => void;
  reject: (err: Error) => void;
}

interface HelperReply {
  id: number;
  error?: string;
  code?: number | null;
  signal?: NodeJS.Signals | null;
  stderr?: string;
}

export interface SpawnHelperStats {
  /** Commands run through the helper. */
  commands: number;
  /** Helper processes started (more than one: it died and was started again). */
  starts: number;
}

/**
 * Starts short-lived commands (an ffmpeg per evidence clip) from a small
 * helper process instead of from the worker itself. Linux starts a child by
 * forking its parent: forking a camera worker (hundreds of MB, frames
 * written every few milliseconds) marks all its memory copy-on-write, and
 * the worker then takes a page fault on every page it writes next. Measured
 * with 60 cameras, clips forked from the worker cost half a core of kernel
 * time; forked from the helper (tens of MB, idle) that cost stays in the
 * helper. Started on first use, started again if it dies; `close` ends it.
 */
export class SpawnHelper {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly counts: SpawnHelperStats = { commands: 0, starts: 0 };

  /** `nodePath`: the Node binary running the helper; default this process's. */
  constructor(private readonly nodePath = process.execPath) {}

  readonly run: RunCommand = (command, args) => {
    if (this.closed) return Promise.reject(new Error('spawn helper closed'));
    const child = this.child ?? this.start();
    const id = this.nextId++;
    this.counts.commands++;
    return new Promise<CommandResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.holdOpen(child, true);
      child.send({ id, command, args: [...args] }, (err) => {
        if (err) this.settle(id, new Error(`spawn helper: could not send "${command}": ${err.message}`));
      });
    });
  };

  stats(): SpawnHelperStats {
    return { ...this.counts };
  }

  /** Ends the helper; commands still running are killed and their calls rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    const hard = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(hard);
  }

  private start(): ChildProcess {
    this.counts.starts++;
    // A small heap: the helper holds nothing but the commands it waits for.
    const child = spawn(this.nodePath, ['--max-old-space-size=32', '-e', HELPER_SOURCE], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child = child;
    child.on('message', (m: HelperReply) => this.settle(m.id, m));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      for (const id of [...this.pending.keys()]) this.settle(id, new Error(`spawn helper ended (${signal ?? `exit ${code}`}) before the command did`));
    });
    child.on('error', (err) => {
      for (const id of [...this.pending.keys()]) this.settle(id, new Error(`spawn helper: ${err.message}`));
    });
    this.holdOpen(child, false);
    return child;
  }

  /** Waiting for a command keeps this process alive; an idle helper does not. */
  private holdOpen(child: ChildProcess, busy: boolean): void {
    const channel = (child as unknown as { channel?: { ref(): void; unref(): void } }).channel;
    if (busy) {
      child.ref();
      channel?.ref();
    } else {
      child.unref();
      channel?.unref();
    }
  }

  private settle(id: number, outcome: HelperReply | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0 && this.child) this.holdOpen(this.child, false);
    if (outcome instanceof Error) p.reject(outcome);
    else if (outcome.error !== undefined) p.reject(new Error(outcome.error));
    else p.resolve({ code: outcome.code ?? null, signal: outcome.signal ?? null, stderr: outcome.stderr ?? '' });
  }
}
