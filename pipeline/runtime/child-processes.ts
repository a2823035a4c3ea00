import { readdirSync, readFileSync } from 'node:fs';

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
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(e));
    } catch {
      // Gone meanwhile.
    }
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
