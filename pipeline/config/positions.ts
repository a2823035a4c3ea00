import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { Path } from './env.js';

/**
 * From a path in the parsed file to a line and column in it. A path that does
 * not exist (a missing field) resolves to the deepest node that does: the
 * mapping the field is missing from.
 */
export interface Position {
  line: number;
  column: number;
}

export class SourceLocator {
  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** The node at the deepest existing prefix of `path`, and how many segments matched. */
  private walk(path: Path): { node: Node | null; depth: number; keyNode: Node | null } {
    let node = this.doc.contents as Node | null;
    let keyNode: Node | null = null;
    let depth = 0;
    for (const segment of path) {
      node = this.deref(node);
      const next = this.child(node, segment);
      if (!next) break;
      node = next.value;
      keyNode = next.key;
      depth++;
    }
    return { node, depth, keyNode };
  }

  private deref(node: Node | null): Node | null {
    // An alias points at its anchor: that is where the value is written.
    if (node && isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? node;
    return node;
  }

  private child(node: Node | null, segment: string | number): { key: Node | null; value: Node | null } | null {
    if (!node) return null;
    if (isSeq(node)) {
      if (typeof segment !== 'number' && !/^\d+$/.test(segment)) return null;
      const item = node.items[Number(segment)] as Node | undefined;
      return item === undefined ? null : { key: null, value: item };
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key) && String(key.value) === String(segment)) return { key, value: (pair.value as Node | null) ?? key };
      }
      // YAML merge keys (`<<: *base`): look into the merged mappings.
      for (const pair of node.items) {
        if (isScalar(pair.key) && pair.key.value === '<<') {
          const sources = isSeq(pair.value) ? (pair.value.items as Node[]) : [pair.value as Node];
          for (const source of sources) {
            const found = this.child(this.deref(source), segment);
            if (found) return found;
          }
        }
      }
    }
    return null;
  }

  private at(node: Node | null): Position {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** Position of the value at `path` (or of the deepest existing part of it). */
  position(path: Path): Position & { exact: boolean } {
    const { node, depth } = this.walk(path);
    return { ...this.at(node), exact: depth === path.length };
  }

  /** Position of the key `key` inside the mapping at `path` (for unknown fields). */
  keyPosition(path: Path, key: string): Position {
    const { node, depth, keyNode } = this.walk([...path, key]);
    if (depth === path.length + 1) return this.at(keyNode ?? node);
    return this.position(path);
  }

  /** How many leading segments of `path` exist in the file. */
  existingDepth(path: Path): number {
    return this.walk(path).depth;
  }
}

export function formatPath(path: Path): string {
  return path.map(String).join('.');
}
