import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The page speaks Chinese and English from message files alone: every key the
// sources use must exist in both, and both must hold the same keys.
const WEB = join(import.meta.dirname, '..', 'web');
const zh = JSON.parse(readFileSync(join(WEB, 'messages', 'zh-CN.json'), 'utf8')) as Record<string, string>;
const en = JSON.parse(readFileSync(join(WEB, 'messages', 'en.json'), 'utf8')) as Record<string, string>;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

describe('web messages', () => {
  it('zh-CN and en hold the same keys, none empty, the same placeholders', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    for (const [k, v] of Object.entries(zh)) {
      expect(v.trim(), k).not.toBe('');
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(en[k]!), k).toEqual(ph(v));
    }
  });

  it('every literal key the sources pass to t() exists', () => {
    const missing: string[] = [];
    for (const file of sources(join(WEB, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\('([a-z_.0-9]+)'/g)) if (!(m[1]! in zh)) missing.push(`${file}: ${m[1]}`);
    }
    expect(missing).toEqual([]);
  });

  it('every event kind the site schema knows has a name in both languages', async () => {
    const { EVENT_KINDS } = await import('../pipeline/config/schema.js');
    const missing = EVENT_KINDS.filter((k) => !(`kind.${k}` in zh));
    expect(missing).toEqual([]);
  });
});
