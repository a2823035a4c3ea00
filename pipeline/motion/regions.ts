/** A box on some pixel grid: [x1, y1, x2, y2], x2/y2 exclusive. */
export type GridBox = [number, number, number, number];

/**
 * Bounding boxes of the 8-connected components of a binary image with at
 * least `minArea` pixels. Iterative flood fill with a reused stack: no
 * recursion limits on a large blob.
 */
export function componentBoxes(bin: Uint8Array, width: number, height: number, minArea: number): GridBox[] {
  const seen = new Uint8Array(bin.length);
  const stack = new Int32Array(bin.length);
  const boxes: GridBox[] = [];
  for (let start = 0; start < bin.length; start++) {
    if (!bin[start] || seen[start]) continue;
    let sp = 0;
    stack[sp++] = start;
    seen[start] = 1;
    let area = 0;
    let x1 = width, y1 = height, x2 = -1, y2 = -1;
    while (sp > 0) {
      const p = stack[--sp]!;
      area++;
      const x = p % width;
      const y = (p - x) / width;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (bin[q] && !seen[q]) {
            seen[q] = 1;
            stack[sp++] = q;
          }
        }
      }
    }
    if (area >= minArea) boxes.push([x1, y1, x2 + 1, y2 + 1]);
  }
  return boxes;
}

/**
 * Pads every box by `pad` (clamped to the grid) and merges boxes that then
 * overlap, until none do: a person split into head and legs becomes one region,
 * and the detector gets a little context around it.
 */
export function padAndMerge(boxes: readonly GridBox[], pad: number, width: number, height: number): GridBox[] {
  let out: GridBox[] = boxes.map(([a, b, c, d]) => [
    Math.max(0, a - pad),
    Math.max(0, b - pad),
    Math.min(width, c + pad),
    Math.min(height, d + pad),
  ]);
  let merged = true;
  while (merged) {
    merged = false;
    const next: GridBox[] = [];
    for (const box of out) {
      const hit = next.find((o) => box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3]);
      if (hit) {
        hit[0] = Math.min(hit[0], box[0]);
        hit[1] = Math.min(hit[1], box[1]);
        hit[2] = Math.max(hit[2], box[2]);
        hit[3] = Math.max(hit[3], box[3]);
        merged = true;
      } else next.push([...box]);
    }
    out = next;
  }
  return out;
}
