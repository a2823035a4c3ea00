/**
 * An error a command raises on purpose: its message is printed as one line and
 * the process exits with `exitCode` (2 for invalid input, 1 for everything else).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** How a command's failure reaches the user: one line on stderr, and the exit code (a CliError's, else 1). */
export function reportCommandError(err: unknown): void {
  process.stderr.write(`portwatch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof CliError ? err.exitCode : 1;
}
