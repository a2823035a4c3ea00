import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { aisJsonLine, aisJsonObject, AisDecodeStream, AisLineDecoder, type FeedRecord } from '../pipeline/ais/index.js';
import { checksumFooter } from '../pipeline/nmea/index.js';
import { fixture, readLines } from './fixtures/ais/compare.js';
import { prng as rng } from './helpers/prng.js';


const ARMOUR = '0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw';
const SPECIAL = '!$\\*,:-0123456789ABVDMaivdmgsc\r\n\t \u0000\u00ff~';

const seeds = [
  ...readLines(fixture('gpsd', 'sample.aivdm')),
  ...readLines(fixture('libais', 'test.aivdm')),
  ...readLines(fixture('libais', 'tagblock.nmea')),
  ...readLines(fixture('pyais', 'gatehouse.nmea')),
  ...readLines(fixture('gpsd', 'ais-nmea.log')).slice(0, 300),
].filter((l) => l.trim() !== '' && !l.startsWith('#'));

function randomBytes(r: () => number): string {
  const n = Math.floor(r() * 200);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(r() < 0.6 ? SPECIAL.charCodeAt(Math.floor(r() * SPECIAL.length)) : Math.floor(r() * 256));
  return s;
}

/** Re-sign a sentence so the mutation gets past the checksum into the decoder. */
function resign(line: string): string {
  const bang = Math.max(line.indexOf('!'), line.indexOf('$'));
  const star = line.indexOf('*', bang);
  if (bang < 0) return line;
  const end = star < 0 ? line.length : star;
  return line.slice(0, bang + 1) + line.slice(bang + 1, end) + checksumFooter(line.slice(bang + 1, end)) + (star < 0 ? '' : line.slice(star + 3));
}

function mutate(r: () => number, line: string): string {
  let s = line;
  const ops = 1 + Math.floor(r() * 4);
  for (let k = 0; k < ops; k++) {
    const i = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 7)) {
      case 0: // replace a character
        s = s.slice(0, i) + SPECIAL[Math.floor(r() * SPECIAL.length)] + s.slice(i + 1);
        break;
      case 1: // delete a run
        s = s.slice(0, i) + s.slice(i + 1 + Math.floor(r() * 10));
        break;
      case 2: // insert payload characters
        s = s.slice(0, i) + ARMOUR.slice(Math.floor(r() * 40), Math.floor(r() * 64)) + s.slice(i);
        break;
      case 3: // truncate
        s = s.slice(0, i);
        break;
      case 4: // duplicate a slice
        s = s.slice(0, i) + s.slice(Math.floor(r() * s.length)) + s.slice(i);
        break;
      case 5: // random fragment count/number/fill fields
        s = s.replace(/,\d,\d,/, `,${Math.floor(r() * 12)},${Math.floor(r() * 12)},`).replace(/,\d\*/, `,${Math.floor(r() * 9)}*`);
        break;
      default: // random payload of random length and type
        s = s.replace(/(,[AB12]?,)[^,]*(,\d\*)/, (_m, a: string, b: string) => {
          let p = ARMOUR[Math.floor(r() * 64)]!;
          const n = Math.floor(r() * 180);
          for (let j = 0; j < n; j++) p += ARMOUR[Math.floor(r() * 64)];
          return `${a}${p}${b}`;
        });
    }
  }
  return r() < 0.7 ? resign(s) : s;
}

describe('fuzz: arbitrary bytes in, nothing thrown out', () => {
  it('decodes random and mutated lines for a bounded time without an exception escaping or being swallowed', () => {
    const seed = Date.now() >>> 0;
    const r = rng(seed);
    let records = 0;
    let pushed = 0;
    const decoder = new AisLineDecoder({
      onRecord: (rec: FeedRecord) => {
        records++;
        if (rec.kind === 'ais') {
          // Every emitted message must serialise, and the fast path must agree with JSON.stringify.
          const line = aisJsonLine(rec);
          if (line !== JSON.stringify(aisJsonObject(rec))) throw new Error(`JSON mismatch for ${line}`);
        }
      },
      fragmentMaxLines: 50,
      emitType24Parts: true,
    });
    // At least MIN_LINES lines, then more until the time budget is spent.
    const MIN_LINES = 3000;
    const until = Date.now() + 2500;
    let escaped = 0;
    while (pushed < MIN_LINES || Date.now() < until) {
      for (let i = 0; i < 200; i++) {
        const pick = r();
        const line = pick < 0.2 ? randomBytes(r) : mutate(r, seeds[Math.floor(r() * seeds.length)]!);
        try {
          decoder.push(line);
        } catch {
          escaped++;
        }
        pushed++;
      }
    }
    expect(escaped).toBe(0);
    decoder.finish();
    const stats = decoder.stats();
    // A caught internal error would show up here: the decoder must not need its safety net.
    expect(stats.rejects.decoder_error, `seed ${seed}: ${JSON.stringify(stats.samples.filter((s) => s.reason === 'decoder_error'))}`).toBe(0);
    expect(stats.lines).toBe(pushed);
    // Both sides of the decoder were exercised: some mutated lines still decode, most are rejected.
    expect(records).toBeGreaterThan(pushed / 100);
    expect(stats.rejected).toBeGreaterThan(pushed / 10);
  });

  it('streams random binary chunks through AisDecodeStream to the end', async () => {
    const r = rng(12345);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(r() * 4096);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = r() < 0.02 ? 10 : Math.floor(r() * 256);
      chunks.push(b);
      if (i % 10 === 0) chunks.push(Buffer.from(`${seeds[i % seeds.length]}\n`, 'latin1'));
    }
    const stream = new AisDecodeStream({});
    let got = 0;
    await pipeline(
      Readable.from(chunks),
      stream,
      new Writable({
        objectMode: true,
        write(_rec: FeedRecord, _e, cb) {
          got++;
          cb();
        },
      }),
    );
    const stats = stream.stats();
    expect(stats.rejects.decoder_error).toBe(0);
    expect(stats.lines).toBeGreaterThan(1000);
    expect(got).toBeGreaterThan(5);
  });
});
