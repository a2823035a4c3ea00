/**
 * Cuts a byte stream into lines (LF or CRLF). A line longer than `max_bytes`
 * is not NMEA (a sentence is at most 82 characters, tag blocks and wrappers
 * included a few hundred): it is dropped and reported rather than buffered
 * without bound, and splitting resumes at the next newline.
 */
export interface LineSplitterOptions {
  max_bytes?: number;
  onOversize?: (bytes: number) => void;
}

export class LineSplitter {
  private pending = '';
  private discarding = false;
  private readonly max: number;

  constructor(private readonly options: LineSplitterOptions = {}) {
    this.max = options.max_bytes ?? 4096;
  }

  /** Feeds a chunk; returns the complete lines it finished, without line endings. */
  push(chunk: Buffer | string): string[] {
    // latin1 keeps every byte as one char: NMEA is ASCII, and garbage stays countable instead of throwing.
    const text = this.pending + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (this.discarding) {
        this.discarding = false;
      } else if (end - start > this.max) {
        this.options.onOversize?.(end - start);
      } else if (end > start) {
        lines.push(text.slice(start, end));
      }
      start = nl + 1;
    }
    this.pending = text.slice(start);
    if (this.pending.length > this.max) {
      this.options.onOversize?.(this.pending.length);
      this.pending = '';
      this.discarding = true;
    }
    return lines;
  }

  /** The last unterminated line, at end of input. */
  end(): string[] {
    const rest = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
    this.pending = '';
    return rest.length > 0 && !this.discarding ? [rest] : [];
  }
}
