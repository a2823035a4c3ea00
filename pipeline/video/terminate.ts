import type { ChildProcess } from 'node:child_process';

/**
 * Asks an ffmpeg to end (SIGTERM: it closes its outputs cleanly) and kills it
 * if it has not after `graceMs`: a process stuck in a blocking read must not
 * outlive its camera.
 */
export function terminate(child: ChildProcess, graceMs = 2000): void {
  child.kill('SIGTERM');
  const hard = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  hard.unref?.();
  child.once('close', () => clearTimeout(hard));
}
