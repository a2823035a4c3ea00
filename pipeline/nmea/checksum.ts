/** Value of one hex digit (either case), or -1. */
export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** XOR of the character codes text[start, end). */
export function xorChecksum(text: string, start: number, end: number): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= text.charCodeAt(i);
  return x & 0xff;
}

/**
 * True when the two characters after `star` are the hex checksum (either case)
 * of text[start, star).
 */
export function checksumMatches(text: string, start: number, star: number): boolean {
  if (star + 2 >= text.length) return false;
  const hi = hexDigit(text.charCodeAt(star + 1));
  const lo = hexDigit(text.charCodeAt(star + 2));
  if (hi < 0 || lo < 0) return false;
  return ((hi << 4) | lo) === xorChecksum(text, start, star);
}

/** "*hh" footer (upper-case hex) for a sentence body without its leading '!' or '$'. */
export function checksumFooter(body: string): string {
  return `*${xorChecksum(body, 0, body.length).toString(16).toUpperCase().padStart(2, '0')}`;
}
