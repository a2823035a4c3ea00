/**
 * Annex B data cut into its NAL units, start codes removed: a plain scan for 00 00 01
 * (emulation prevention keeps payloads free of it); the zero byte of a 4-byte start code
 * belongs to the start code. The tests' own reading, independent of the product's.
 */
export function annexBNals(data: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < data.length; i++) if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) starts.push(i);
  return starts.map((i, k) => {
    const next = starts[k + 1];
    const end = next === undefined ? data.length : next > 0 && data[next - 1] === 0 ? next - 1 : next;
    return data.subarray(i + 3, end);
  });
}

export const nalType = (nal: Buffer) => nal[0]! & 0x1f;
