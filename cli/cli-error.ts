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
