import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AisDecodeStream, AisLineDecoder, decodeAisLines, type AisRecord, type FeedRecord, type NmeaRecord } from '../pipeline/ais/index.js';
import {
  checksumFooter,
  checksumMatches,
  frameSentence,
  parseTagBlock,
  parseUscgTrailer,
  tagTimeIso,
  type FramedSentence,
} from '../pipeline/nmea/index.js';

/** A VDM sentence with a correct checksum. */
function vdm(count: number, num: number, seq: string, channel: string, payload: string, fill: number, talker = 'AI', formatter = 'VDM'): string {
  const body = `${talker}${formatter},${count},${num},${seq},${channel},${payload},${fill}`;
  return `!${body}${checksumFooter(body)}`;
}

function nmea(body: string): string {
  return `$${body}${checksumFooter(body)}`;
}

function tag(fields: string): string {
  return `\\${fields}${checksumFooter(fields)}\\`;
}

// Two real 2-part type 5 messages (gpsd sample.aivdm, pyais tests).
const SEA_ENTERPRISE = ['55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1`?164vc03S1CCAD', '`88888888888880'] as const; // fill 0, 2
const OTHER_FIVE = ['53m@FJ400000hT5<0008E8q@TpF000000000000T2P3425rg0:53kThQDQh0', '00000000000'] as const; // fill 0, 2
const POSITION = '15RTgt0PAso;90TKcjM8h6g208CQ'; // type 1, MMSI 371798000

function ais(records: FeedRecord[]): AisRecord[] {
  return records.filter((r): r is AisRecord => r.kind === 'ais');
}

describe('NMEA 0183 framing', () => {
  it('accepts the checksum in either hex case and rejects a wrong one', () => {
    const good = vdm(1, 1, '', 'A', POSITION, 0);
    const lower = good.slice(0, -2) + good.slice(-2).toLowerCase();
    expect(/[a-f]/.test(good.slice(-2)) || /[a-f]/.test(lower.slice(-2))).toBe(true);
    const bad = good.slice(0, -2) + (good.slice(-2) === '00' ? '01' : '00');
    const { records, stats } = decodeAisLines([good, lower, bad]);
    expect(ais(records)).toHaveLength(2);
    expect(stats.rejects.checksum).toBe(1);
    expect(stats.samples).toEqual([{ reason: 'checksum', line: 3, text: bad }]);
    expect(checksumMatches('!AIVDM,1,1,,A,x,0*00', 1, 18)).toBe(false);
  });

  it('reads other talkers (!BSVDM, !ABVDM) and own-vessel !AIVDO', () => {
    const { records } = decodeAisLines([
      vdm(1, 1, '', 'A', POSITION, 0, 'BS'),
      vdm(1, 1, '', 'B', POSITION, 0, 'AB'),
      vdm(1, 1, '', '', POSITION, 0, 'AI', 'VDO'),
    ]);
    expect(ais(records).map((r) => [r.talker, r.formatter, r.channel, r.message.mmsi])).toEqual([
      ['BS', 'VDM', 'A', 371798000],
      ['AB', 'VDM', 'B', 371798000],
      ['AI', 'VDO', '', 371798000],
    ]);
  });

  it('decodes LF and CRLF input split at any byte across chunks, with line numbers', async () => {
    const lines = [vdm(1, 1, '', 'A', POSITION, 0), 'garbage', vdm(2, 1, '3', 'B', SEA_ENTERPRISE[0], 0), vdm(2, 2, '3', 'B', SEA_ENTERPRISE[1], 2)];
    const text = `${lines[0]}\r\n${lines[1]}\n${lines[2]}\r\n${lines[3]}`; // no final newline
    for (const step of [1, 3, 7, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length; i += step) chunks.push(Buffer.from(text.slice(i, i + step), 'latin1'));
      const dec = new AisDecodeStream({ file: 'feed.nmea' });
      const got: FeedRecord[] = [];
      await pipeline(
        Readable.from(chunks),
        dec,
        new Writable({
          objectMode: true,
          write(r: FeedRecord, _e, cb) {
            got.push(r);
            cb();
          },
        }),
      );
      expect(ais(got).map((r) => [r.line, r.message.type])).toEqual([
        [1, 1],
        [4, 5],
      ]);
      expect(dec.stats().samples).toEqual([{ reason: 'not_nmea', file: 'feed.nmea', line: 2, text: 'garbage' }]);
    }
  });

  it('parses NMEA 4.10 tag blocks: station, time (s or ms), group, line count, text, destination, relative time', () => {
    const body = 's:berth-7,c:1671620143123,g:2-3-42,n:17,t:hello world,d:dest,r:12';
    const tb = parseTagBlock(`${body}${checksumFooter(body)}`, 0, body.length + 3);
    expect(tb).toEqual({ station: 'berth-7', time: 1671620143.123, group: { sentence: 2, groupsize: 3, id: 42 }, lineCount: 17, text: 'hello world', destination: 'dest', relativeTime: 12 });
    expect(parseTagBlock('c:abc*00', 0, 8)).toBeNull();
    expect(parseTagBlock('garbage', 0, 7)).toBeNull();
    expect(tagTimeIso(1418172113)).toBe('2014-12-10T00:41:53.000000Z');
    const framed = frameSentence(`${tag('s:x,c:1')}${vdm(1, 1, '', 'A', POSITION, 0)}`) as FramedSentence;
    expect(framed.tagBlock).toEqual({ station: 'x', time: 1 });
  });

  it('parses US Coast Guard trailing fields', () => {
    expect(parseUscgTrailer('b003669794,1272412827')).toEqual({ raw: 'b003669794,1272412827', station: 'b003669794', time: 1272412827 });
    expect(parseUscgTrailer('d-109,S2105,t050056.00,T56.13718694,r003669946,1325394060,1325394001')).toMatchObject({ station: 'r003669946', time: 1325394060 });
    const { records } = decodeAisLines([`${vdm(1, 1, '', 'A', POSITION, 0)},s22,d-105,T28.81,x9,r003669945,1241544035`]);
    expect(ais(records)[0]).toMatchObject({ station: 'r003669945', receivedAt: 1241544035 });
  });

  it('skips receiver prefixes before the sentence and blank or comment lines', () => {
    const { records, stats } = decodeAisLines(['1241544035.5 ' + vdm(1, 1, '', 'A', POSITION, 0), '', '   ', '# comment']);
    expect(ais(records)).toHaveLength(1);
    expect(stats.skipped).toBe(3);
    expect(stats.rejected).toBe(0);
  });
});

describe('multi-sentence reassembly', () => {
  const a1 = vdm(2, 1, '1', 'A', SEA_ENTERPRISE[0], 0);
  const a2 = vdm(2, 2, '1', 'A', SEA_ENTERPRISE[1], 2);
  const b1 = vdm(2, 1, '2', 'A', OTHER_FIVE[0], 0);
  const b2 = vdm(2, 2, '2', 'A', OTHER_FIVE[1], 2);

  it('survives interleaved messages', () => {
    const { records, stats } = decodeAisLines([a1, b1, a2, b2]);
    expect(ais(records).map((r) => r.message.shipname)).toEqual(['SEA ENTERPRISE', expect.any(String)]);
    expect(ais(records)[1]!.message.mmsi).not.toBe(371255000);
    expect(stats.rejected).toBe(0);
  });

  it('reassembles out of order only fragments tied by a tag-block group id; others are dropped and counted', () => {
    // Without a group id, fragment 2 before fragment 1 could be the tail of an earlier
    // message whose first fragment was lost: both groups are dropped, nothing is guessed.
    const { records, stats } = decodeAisLines([a2, b2, b1, a1], { file: 'feed.nmea' });
    expect(ais(records)).toHaveLength(0);
    expect(stats.rejects.incomplete_group).toBe(4);
    expect(stats.samples.map((s) => [s.reason, s.file, s.line])).toEqual([
      ['incomplete_group', 'feed.nmea', 1],
      ['incomplete_group', 'feed.nmea', 2],
      ['incomplete_group', 'feed.nmea', 3],
      ['incomplete_group', 'feed.nmea', 4],
    ]);
    expect(stats.samples[0]!.detail).toContain('fragment 2 without fragment 1');
    const g2 = tag('g:2-2-77') + vdm(2, 2, '', 'A', SEA_ENTERPRISE[1], 2);
    const g1 = tag('g:1-2-77,s:r1,c:1600000000') + vdm(2, 1, '', 'A', SEA_ENTERPRISE[0], 0);
    const grouped = decodeAisLines([g2, g1]);
    expect(ais(grouped.records).map((r) => r.message.shipname)).toEqual(['SEA ENTERPRISE']);
    expect(grouped.stats.rejected).toBe(0);
  });

  it('never completes a message with a fragment of another message that reuses the sequence id', () => {
    // a1's second fragment and b's first are lost; b's second has a1's key (sequence id 1, channel A)
    // and a payload that would fit: only the window and the receive times tell the two apart.
    const b2SameSeq = vdm(2, 2, '1', 'A', SEA_ENTERPRISE[1].replace('`8', '`9'), 2);
    // Its own tail, right after it, joins (same key, in order, within the window).
    expect(ais(decodeAisLines([a1, vdm(1, 1, '', 'A', POSITION, 0), a2]).records).map((r) => r.message.type)).toEqual([1, 5]);
    const far = decodeAisLines([a1, ...Array(25).fill(vdm(1, 1, '', 'A', POSITION, 0)), b2SameSeq]);
    expect(ais(far.records).filter((r) => r.message.type === 5)).toHaveLength(0);
    expect(far.stats.rejects.incomplete_group).toBe(2);
    expect(far.stats.samples.filter((s) => s.reason === 'incomplete_group')[0]!.detail).toContain('not within 20 lines');
    const t1 = tag('c:1700000000');
    const t2 = tag('c:1700000030');
    const late = decodeAisLines([t1 + a1, t2 + b2SameSeq]);
    expect(ais(late.records)).toHaveLength(0);
    expect(late.stats.rejects.incomplete_group).toBe(2);
    const sameSecond = decodeAisLines([t1 + a1, t1 + a2]);
    expect(ais(sameSecond.records).map((r) => r.message.shipname)).toEqual(['SEA ENTERPRISE']);
  });

  it('drops a group with a gap (fragment 2 of 3 lost) instead of joining 1 and 3', () => {
    const three = (n: number, p: string, fill: number): string => vdm(3, n, '4', 'B', p, fill);
    const { records, stats } = decodeAisLines([three(1, SEA_ENTERPRISE[0], 0), three(3, SEA_ENTERPRISE[1], 2)]);
    expect(ais(records)).toHaveLength(0);
    expect(stats.rejects.incomplete_group).toBe(2);
    expect(stats.samples[0]!.detail).toContain('fragment 2 missing before fragment 3');
  });

  it('keeps the same sequence id apart by channel and by tag-block station', () => {
    const onB1 = vdm(2, 1, '1', 'B', OTHER_FIVE[0], 0);
    const onB2 = vdm(2, 2, '1', 'B', OTHER_FIVE[1], 2);
    expect(ais(decodeAisLines([a1, onB1, onB2, a2]).records).map((r) => r.channel)).toEqual(['B', 'A']);
    const s1 = tag('s:north,c:1700000000');
    const s2 = tag('s:south,c:1700000001');
    const { records } = decodeAisLines([s1 + a1, s2 + b1.replace(',2,A,', ',1,A,').replace(/\*..$/, ''), s2 + vdm(2, 1, '1', 'A', OTHER_FIVE[0], 0), s1 + a2, s2 + vdm(2, 2, '1', 'A', OTHER_FIVE[1], 2)]);
    const got = ais(records);
    expect(got.map((r) => [r.station, r.message.mmsi === 371255000])).toEqual([
      ['north', true],
      ['south', false],
    ]);
    // The first fragment's tag block (with its time) stays on the message.
    expect(got[0]!.receivedAt).toBe(1700000000);
  });

  it('groups by tag-block g: when the sentences carry no sequence id', () => {
    const g1 = tag('g:1-2-77,s:r1,c:1600000000') + vdm(2, 1, '', 'A', SEA_ENTERPRISE[0], 0);
    const g2 = tag('g:2-2-77') + vdm(2, 2, '', 'A', SEA_ENTERPRISE[1], 2);
    const { records } = decodeAisLines([g1, vdm(1, 1, '', 'A', POSITION, 0), g2]);
    const got = ais(records);
    expect(got.map((r) => r.message.type)).toEqual([1, 5]);
    expect(got[1]).toMatchObject({ station: 'r1', receivedAt: 1600000000 });
    expect(got[1]!.tagBlock?.group).toEqual({ sentence: 1, groupsize: 2, id: 77 });
  });

  it('counts incomplete groups after the timeout (receive clock), after the line window and at end of input', () => {
    let now = 0;
    const got: FeedRecord[] = [];
    const d = new AisLineDecoder({ onRecord: (r) => got.push(r), clock: () => now, fragmentTimeoutMs: 1000 });
    d.push(a1, 1);
    now = 5000;
    d.push(a2, 2); // too late: a1 is dropped, and a2 alone cannot start a message
    expect(got).toHaveLength(0);
    expect(d.stats().rejects.incomplete_group).toBe(2);
    d.push(b1, 3);
    d.finish();
    expect(d.stats().rejects.incomplete_group).toBe(3);
    expect(d.stats().samples.map((s) => [s.reason, s.line])).toEqual([
      ['incomplete_group', 1],
      ['incomplete_group', 2],
      ['incomplete_group', 3],
    ]);
    expect(d.stats().samples[2]!.detail).toBe('1 of 2 fragments, dropped: end of input');

    const byLines = decodeAisLines([a1, ...Array(5).fill(vdm(1, 1, '', 'A', POSITION, 0)), a2], { fragmentMaxLines: 3 });
    expect(ais(byLines.records).map((r) => r.message.type)).toEqual([1, 1, 1, 1, 1]);
    expect(byLines.stats.rejects.incomplete_group).toBe(2);
  });

  it('ignores a repeated fragment and counts it', () => {
    const { records, stats } = decodeAisLines([a1, a1, a2]);
    expect(ais(records)).toHaveLength(1);
    expect(stats.rejects.duplicate_fragment).toBe(1);
  });
});

describe('rejects are counted by reason, with file and line, and logged at a sampled rate', () => {
  it('classifies malformed sentences', () => {
    const lines = [
      nmea('GPGGA,1'), // 1: not AIS; GGA with too few fields
      '!AIVDM,1,1,,A,' + POSITION + checksumFooter('AIVDM,1,1,,A,' + POSITION), // 2: field count
      vdm(0, 1, '', 'A', POSITION, 0), // 3: fragment number
      vdm(1, 1, '', 'A', POSITION, 7), // 4: fill bits
      vdm(1, 1, '', 'A', POSITION.slice(0, 10) + '~' + POSITION.slice(11), 0), // 5: payload chars
      vdm(1, 1, '', 'A', '', 0), // 6: empty payload
      vdm(1, 1, '', 'A', POSITION.slice(0, 20), 0), // 7: type 1 too short
      vdm(1, 1, '', 'A', 'P00000000000000000000000000', 0), // 8: type 32 does not exist
      '\\s:x*00\\' + vdm(1, 1, '', 'A', POSITION, 0), // 9: bad tag block, sentence kept
      'x'.repeat(5000), // 10: absurd line
      '\u0000\u0001\u00ff!!!', // 11: noise
    ];
    const { records, stats } = decodeAisLines(lines, { file: 'berth3.log' });
    expect(stats.samples.map((s) => `${s.reason}@${s.line}`)).toEqual([
      'nmea_fields@1',
      'field_count@2',
      'fragment_number@3',
      'fill_bits@4',
      'payload_chars@5',
      'payload_length@6',
      'payload_length@7',
      'unknown_type@8',
      'tag_block@9',
      'line_length@10',
      'not_nmea@11',
    ]);
    expect(stats.samples.every((s) => s.file === 'berth3.log')).toBe(true);
    expect(ais(records).map((r) => r.line)).toEqual([9]);
    expect(stats.rejected).toBe(11);
  });

  it('logs the first reject of a reason and then one in logEvery, through the logger passed in', () => {
    const logged: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const bad = vdm(1, 1, '', 'A', POSITION, 0).slice(0, -2) + 'ZZ';
    const { stats } = decodeAisLines(Array(25).fill(bad), { logger, logEvery: 10, file: 'f.nmea' });
    expect(stats.rejects.checksum).toBe(25);
    expect(stats.samples).toHaveLength(5);
    expect(logged.map((l) => [l.reason, l.line, l.count, l.file])).toEqual([
      ['checksum', 1, 1, 'f.nmea'],
      ['checksum', 10, 10, 'f.nmea'],
      ['checksum', 20, 20, 'f.nmea'],
    ]);
  });
});

describe('other NMEA sentences at the berths', () => {
  const gga = '$GPGGA,213950.00,5250.53669,N,00542.34920,E,1,09,1.03,-6.0,M,45.8,M,,*7B';
  const rmc = '$GPRMC,213950.00,A,5250.53669,N,00542.34920,E,0.020,,070420,,,A*7D';
  const vtg = '$GPVTG,,T,,M,0.020,N,0.038,K,A*2A';

  it('decodes GGA, RMC, VTG, HDT and ZDA through nmea-simple', () => {
    const { records, stats } = decodeAisLines([gga, rmc, vtg, nmea('HEHDT,274.07,T'), nmea('GPZDA,160012.71,11,03,2004,-1,00'), nmea('GPGSA,A,3,11,32,14,28,22,03,10,08,17,,,,2.02,1.03,1.74')]);
    const got = records.filter((r): r is NmeaRecord => r.kind === 'nmea').map((r) => r.sentence);
    expect(got.map((s) => s.sentenceId)).toEqual(['GGA', 'RMC', 'VTG', 'HDT', 'ZDA']);
    expect(got[0]).toMatchObject({ latitude: expect.closeTo(52.842278, 5), longitude: expect.closeTo(5.705820, 5), fixType: 'fix', satellitesInView: 9 });
    expect(got[1]).toMatchObject({ status: 'valid', speedKnots: 0.02 });
    expect(got[3]).toMatchObject({ heading: 274.07 });
    expect(stats.ignored).toEqual({ GSA: 1 });
    expect(stats.nmea).toBe(5);
  });

  it('parses TTM (radar target) and ALR (alarm) with its own parsers', () => {
    const { records } = decodeAisLines([
      nmea('RATTM,11,3.25,251.3,T,7.0,093.1,T,0.52,12.4,N,MV NORDIC,T,,123456.78,A'),
      nmea('IIALR,101530.00,007,A,V,Fire door open, berth 4'),
    ]);
    const got = records.filter((r): r is NmeaRecord => r.kind === 'nmea').map((r) => r.sentence);
    expect(got[0]).toEqual({
      sentenceId: 'TTM',
      talkerId: 'RA',
      targetNumber: 11,
      distance: 3.25,
      bearing: 251.3,
      bearingReference: 'T',
      speed: 7,
      course: 93.1,
      courseReference: 'T',
      cpaDistance: 0.52,
      cpaTime: 12.4,
      units: 'N',
      name: 'MV NORDIC',
      status: 'T',
      referenceTarget: false,
      time: '123456.78',
      acquisition: 'A',
    });
    expect(got[1]).toEqual({ sentenceId: 'ALR', talkerId: 'II', time: '101530.00', alarmId: 7, active: true, acknowledged: false, text: 'Fire door open, berth 4' });
  });
});
