import { readdirSync, readFileSync } from 'node:fs';

/**
 * The fields of /proc/PID/stat after the command name (Linux), or null when the
 * process is gone or this is not Linux: `[0]` the state, `[1]` the parent,
 * `[11]`/`[12]` user and system CPU in clock ticks. The name may hold spaces and
 * parentheses, so the fields start after the last ')'.
 */
export function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The process's command name (`ffmpeg`, `redis-server`), or null when it is gone. */
export function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Running: neither gone nor a zombie waiting for a reaper (a container may lack one). */
export function processRunning(pid: number): boolean {
  const f = procStat(pid);
  return f !== null && f[0] !== 'Z';
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** User + system CPU seconds a process has used so far, or null when it is gone. */
export function processCpuSeconds(pid: number): number | null {
  const f = procStat(pid);
  return f === null ? null : (Number(f[11]) + Number(f[12])) / USER_HZ;
}

/**
 * The direct children of a process (Linux: from /proc; elsewhere none are
 * found). A process that exits without draining (a second signal, a missed
 * deadline) takes its ffmpeg decoders and simulators down with it instead of
 * leaving them running without a parent.
 */
export function childPids(parent = process.pid): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = procStat(Number(e)); // null: gone meanwhile
    if (f !== null && Number(f[1]) === parent) out.push(Number(e));
  }
  return out;
}

/** SIGKILLs every direct child; returns how many were signalled. */
export function killChildren(parent = process.pid): number {
  let n = 0;
  for (const pid of childPids(parent)) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // Already gone.
    }
  }
  return n;
}
