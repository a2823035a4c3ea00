/**
 * The AIS payload as a stream of 6-bit values, read as arbitrary-width bit
 * fields. Every payload character is de-armoured once through a lookup table;
 * fields are then assembled from whole 6-bit groups, so no per-field string
 * work happens in the hot path.
 */

/** char code → 6-bit value, or 255 for a character outside the AIS armour. */
export const ARMOUR = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 48; c <= 87; c++) t[c] = c - 48; // '0'..'W'
  for (let c = 96; c <= 119; c++) t[c] = c - 56; // '`'..'w'
  return t;
})();

/** 6-bit value → ASCII for AIS text fields ('@' is 0 and ends a string). */
const SIXBIT_ASCII = '@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !"#$%&\'()*+,-./0123456789:;<=>?';
const SIXBIT_CODES = Array.from(SIXBIT_ASCII, (c) => c.charCodeAt(0));

/** Largest payload we accept, in characters (5 sentences of 82 bytes is far less; this is a safety cap). */
export const MAX_PAYLOAD_CHARS = 1024;

/**
 * A reusable bit buffer. `load*` fills it from armoured text; the reader
 * functions return 0 for bits past the end, as gpsd's zeroed buffer does.
 */
export class BitBuffer {
  readonly six = new Uint8Array(MAX_PAYLOAD_CHARS + 64);
  /** Number of valid bits (characters × 6 − fill bits). */
  bitlen = 0;
  /** Number of 6-bit groups loaded (including the fill bits of the last one). */
  chars = 0;

  /**
   * Append armoured characters text[start, end). Returns false if a character
   * is outside the armour or the payload would exceed the cap.
   */
  append(text: string, start: number, end: number): boolean {
    const six = this.six;
    let n = this.chars;
    if (n + (end - start) > MAX_PAYLOAD_CHARS) return false;
    for (let i = start; i < end; i++) {
      const v = ARMOUR[text.charCodeAt(i) & 0xff]!;
      if (v === 255 || text.charCodeAt(i) > 0xff) return false;
      six[n++] = v;
    }
    this.chars = n;
    return true;
  }

  reset(): void {
    this.chars = 0;
    this.bitlen = 0;
  }

  /** Close the payload: set the bit length from the fill bits and zero the tail. */
  finish(fillBits: number): void {
    this.bitlen = this.chars * 6 - fillBits;
    this.six.fill(0, this.chars, this.chars + 64);
  }

  /** Unsigned field of `width` bits (≤ 48) starting at bit `start`. */
  u(start: number, width: number): number {
    const six = this.six;
    const end = start + width;
    let v = 0;
    let pos = start;
    const limit = this.chars * 6;
    while (pos < end) {
      if (pos >= limit) {
        // Past the loaded data: zeros, like gpsd's cleared buffer.
        v *= 2 ** (end - pos);
        break;
      }
      const idx = (pos / 6) | 0;
      const off = pos - idx * 6;
      const avail = 6 - off;
      const need = end - pos;
      const take = avail < need ? avail : need;
      const chunk = (six[idx]! >> (avail - take)) & ((1 << take) - 1);
      v = v * (1 << take) + chunk;
      pos += take;
    }
    return v;
  }

  /** Two's-complement signed field of `width` bits (≤ 32). */
  s(start: number, width: number): number {
    const v = this.u(start, width);
    if (width < 32) {
      const shift = 32 - width;
      return (v << shift) >> shift;
    }
    const half = 2 ** (width - 1);
    return v >= half ? v - half * 2 : v;
  }

  /** Boolean flag at bit `start`. */
  b(start: number): boolean {
    return this.u(start, 1) !== 0;
  }

  /**
   * Six-bit text of up to `count` characters: stops at the first '@' and trims
   * trailing spaces and '@', as gpsd does.
   */
  text(start: number, count: number, trim = true): string {
    let end = 0;
    const codes: number[] = [];
    for (let i = 0; i < count; i++) {
      const c = SIXBIT_CODES[this.u(start + 6 * i, 6)]!;
      if (c === 64) break; // '@'
      codes.push(c);
      if (c !== 32) end = codes.length;
    }
    if (trim) codes.length = end;
    return String.fromCharCode.apply(null, codes);
  }

  /** Text from `start` to the end of the payload (whole characters only). */
  endText(start: number, maxChars: number): string {
    if (this.bitlen <= start) return '';
    const n = Math.min(((this.bitlen - start) / 6) | 0, maxChars);
    return this.text(start, n);
  }

  /**
   * gpsd's "bitcount:hex" rendering of binary data: `count` bits from `start`,
   * as whole bytes in lowercase hex. With `maskTail`, the unused low bits of
   * the last byte are cleared.
   */
  hex(start: number, count: number, maskTail: boolean): string {
    if (count <= 0) return `${count < 0 ? 0 : count}:`;
    const bytes = Math.ceil(count / 8);
    let out = `${count}:`;
    for (let i = 0; i < bytes; i++) {
      let byte = this.u(start + i * 8, 8);
      if (maskTail && i === bytes - 1 && count % 8 !== 0) {
        byte &= (0xff << (8 - (count % 8))) & 0xff;
      }
      out += (byte < 16 ? '0' : '') + byte.toString(16);
    }
    return out;
  }
}
