import { parseSps, type SpsInfo } from './h264-sps.js';

/**
 * Fragmented MP4 (ISO/IEC 14496-12, H.264 in it per 14496-15) for one video
 * track, written from access units received in this process: the same layout
 * ffmpeg's `-movflags frag_keyframe+empty_moov+default_base_moof` gives (an
 * init segment of ftyp + moov with no samples, then moof + mdat fragments with
 * the base at the moof), which Media Source Extensions play.
 */

/** One picture: its NAL units with 4-byte lengths (AVCC), as the mdat holds them. */
export interface Fmp4Sample {
  data: Buffer;
  /** In the track's timescale. */
  duration: number;
  key: boolean;
}

function box(type: string, ...payload: Buffer[]): Buffer {
  let size = 8;
  for (const p of payload) size += p.length;
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...payload], size);
}

function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
}

const u32 = (...values: number[]) => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
};
const UNITY_MATRIX = u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000);

/** The avcC box: the decoder configuration (14496-15 §5.3.3.1), with the high profiles' chroma and bit-depth fields. */
function avcC(sps: Buffer, pps: Buffer, info: SpsInfo): Buffer {
  const head = Buffer.from([1, info.profile, info.compatibility, info.level, 0xff /* 4-byte lengths */, 0xe1 /* one SPS */]);
  const len = (b: Buffer) => Buffer.from([b.length >> 8, b.length & 0xff]);
  const parts = [head, len(sps), sps, Buffer.from([1]), len(pps), pps];
  if (info.profile !== 66 && info.profile !== 77 && info.profile !== 88) {
    parts.push(Buffer.from([0xfc | info.chromaFormat, 0xf8 | (info.bitDepthLuma - 8), 0xf8 | (info.bitDepthChroma - 8), 0]));
  }
  return box('avcC', ...parts);
}

/** ftyp + moov for an H.264 track of `timescale` ticks a second, from its SPS and PPS (NAL units, no start codes). */
export function fmp4InitSegment(sps: Buffer, pps: Buffer, timescale: number): { bytes: Buffer; info: SpsInfo } {
  const info = parseSps(sps);
  const { width, height } = info;
  const ftyp = box('ftyp', Buffer.from('iso5', 'latin1'), u32(512), Buffer.from('iso5iso6mp41', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, 1000, 0, 0x10000), Buffer.from([1, 0, 0, 0]), Buffer.alloc(8), UNITY_MATRIX, Buffer.alloc(24), u32(2));
  const tkhd = fullBox('tkhd', 0, 3, u32(0, 0, 1, 0, 0, 0, 0, 0, 0), UNITY_MATRIX, u32(width * 0x10000, height * 0x10000));
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, timescale, 0), Buffer.from([0x55, 0xc4, 0, 0]) /* 'und' */);
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide', 'latin1'), Buffer.alloc(12), Buffer.from('VideoHandler\0', 'latin1'));
  const vmhd = fullBox('vmhd', 0, 1, Buffer.alloc(8));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const entry = Buffer.alloc(78);
  entry.writeUInt16BE(1, 6); // data_reference_index
  entry.writeUInt16BE(width, 24);
  entry.writeUInt16BE(height, 26);
  entry.writeUInt32BE(0x00480000, 28); // 72 dpi
  entry.writeUInt32BE(0x00480000, 32);
  entry.writeUInt16BE(1, 40); // frame_count
  entry.writeUInt16BE(0x18, 74); // depth
  entry.writeInt16BE(-1, 76);
  const stsd = fullBox('stsd', 0, 0, u32(1), box('avc1', entry, avcC(sps, pps, info)));
  const empty = (type: string) => fullBox(type, 0, 0, u32(0));
  const stbl = box('stbl', stsd, empty('stts'), empty('stsc'), fullBox('stsz', 0, 0, u32(0, 0)), empty('stco'));
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', vmhd, dinf, stbl)));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32(1, 1, 0, 0, 0)));
  return { bytes: Buffer.concat([ftyp, box('moov', mvhd, trak, mvex)]), info };
}

/** sample_depends_on 2 (an IDR); the others depend on earlier pictures and are not sync samples. */
const KEY_FLAGS = 0x02000000;
const OTHER_FLAGS = 0x01010000;

/**
 * One fragment, moof + mdat: `sequence` counts fragments from 1, `baseTime` is
 * the first sample's decode time. The samples' data are not copied here: the
 * result is the header buffers followed by the samples' own.
 */
export function fmp4Fragment(sequence: number, baseTime: number, samples: readonly Fmp4Sample[]): Buffer[] {
  const n = samples.length;
  const trunHead = 8 + 4 + 8; // box header, version/flags, sample_count + data_offset
  const trunSize = trunHead + 12 * n;
  const moofSize = 8 + 16 /* mfhd */ + 8 + 16 /* tfhd */ + 20 /* tfdt v1 */ + trunSize;
  let mdatSize = 8;
  for (const s of samples) mdatSize += s.data.length;
  const h = Buffer.allocUnsafe(moofSize + 8);
  let o = 0;
  const w32 = (v: number) => (o = h.writeUInt32BE(v >>> 0, o));
  const tag = (t: string) => (o += h.write(t, o, 'latin1'));
  w32(moofSize);
  tag('moof');
  w32(16);
  tag('mfhd');
  w32(0);
  w32(sequence);
  w32(8 + 16 + 20 + trunSize);
  tag('traf');
  w32(16);
  tag('tfhd');
  w32(0x020000); // default-base-is-moof
  w32(1); // track_ID
  w32(20);
  tag('tfdt');
  w32(0x01000000); // version 1: a 64-bit time
  w32(Math.floor(baseTime / 2 ** 32));
  w32(baseTime % 2 ** 32);
  w32(trunSize);
  tag('trun');
  w32(0x000701); // data offset, sample duration, size and flags present
  w32(n);
  w32(moofSize + 8); // the first sample's data, after the mdat header
  for (const s of samples) {
    w32(s.duration);
    w32(s.data.length);
    w32(s.key ? KEY_FLAGS : OTHER_FLAGS);
  }
  w32(mdatSize);
  tag('mdat');
  return [h, ...samples.map((s) => s.data)];
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

/**
 * Annex B with 4-byte start codes (what `H264Depacketizer` emits) to AVCC in
 * place: each start code is overwritten with its NAL unit's length. An H.264
 * NAL unit never holds 00 00 00 01 (emulation prevention), so the search finds
 * only start codes. Returns false when the unit does not begin with one.
 */
export function annexBToAvccInPlace(unit: Buffer): boolean {
  if (unit.length < 5 || unit.indexOf(START_CODE) !== 0) return false;
  let at = 0;
  while (at >= 0) {
    const next = unit.indexOf(START_CODE, at + 4);
    const end = next < 0 ? unit.length : next;
    unit.writeUInt32BE(end - at - 4, at);
    at = next;
  }
  return true;
}
