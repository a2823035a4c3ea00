import { NAL_AUD, NAL_IDR, NAL_PPS, NAL_SLICE, NAL_SPS, nalUnits } from '../video/annexb.js';
import { parseSps, sliceType } from '../video/h264-syntax.js';

/**
 * An MP4 file (ISO/IEC 14496-12 and -15) holding H.264 access units as the
 * camera sent them, the moov box first so a browser plays it while it loads:
 * what `ffmpeg -f h264 -framerate F -i … -c copy -movflags +faststart` writes,
 * without starting a process per clip (one costs ~0.2 s of CPU just to load
 * ffmpeg's libraries). Covers the streams cameras send for evidence: one SPS
 * and one PPS for the whole clip and no B-frames (so decode order is display
 * order and no composition offsets are needed). Anything else returns null
 * and the caller lets ffmpeg write the file.
 */

const SLICE_B = 1;
/** Media time units per second (the RTP clock's). */
const TIMESCALE = 90_000;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function box(type: string, ...parts: Uint8Array[]): Buffer {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...parts]);
}

function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...parts);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

const MATRIX = u32s(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

/**
 * The MP4 bytes of `units` (Annex B, one picture each, the first a keyframe)
 * at `fps` frames a second, or null when the clip is not one this writer
 * covers (no SPS/PPS, several different ones, B-frames, a first unit that is
 * not a keyframe, an SPS it cannot read).
 */
export function h264Mp4(units: ReadonlyArray<{ data: Uint8Array; key: boolean }>, fps: number): Buffer | null {
  if (units.length === 0 || !units[0]!.key || !(fps > 0)) return null;
  let sps: Uint8Array | null = null;
  let pps: Uint8Array | null = null;
  const samples: Buffer[] = [];
  const sync: number[] = [];
  for (const [index, unit] of units.entries()) {
    const parts: Uint8Array[] = [];
    let picture = false;
    for (const nal of nalUnits(unit.data)) {
      const type = nal[0]! & 0x1f;
      if (type === NAL_AUD) continue;
      if (type === NAL_SPS || type === NAL_PPS) {
        const known = type === NAL_SPS ? sps : pps;
        if (known && !sameBytes(known, nal)) return null;
        if (type === NAL_SPS) sps = nal;
        else pps = nal;
        continue; // in the sample entry, once
      }
      if (type === NAL_SLICE || type === NAL_IDR) {
        picture = true;
        try {
          if (sliceType(nal) === SLICE_B) return null;
        } catch {
          return null;
        }
      }
      const length = Buffer.alloc(4);
      length.writeUInt32BE(nal.length, 0);
      parts.push(length, nal);
    }
    if (!picture) return null;
    if (unit.key) sync.push(index + 1);
    samples.push(Buffer.concat(parts));
  }
  if (!sps || !pps) return null;
  let info;
  try {
    info = parseSps(sps);
  } catch {
    return null;
  }

  const delta = Math.round(TIMESCALE / fps);
  const duration = delta * samples.length;
  const movieDuration = Math.round((duration * 1000) / TIMESCALE);
  const avcC = box(
    'avcC',
    Buffer.from([1, info.profile, info.compatibility, info.level, 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]),
    sps,
    Buffer.from([1, pps.length >> 8, pps.length & 0xff]),
    pps,
  );
  const compressor = Buffer.alloc(32);
  const avc1 = box(
    'avc1',
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), // reserved, data_reference_index 1
    Buffer.alloc(16), // pre_defined, reserved
    Buffer.from([info.width >> 8, info.width & 0xff, info.height >> 8, info.height & 0xff]),
    u32s(0x00480000, 0x00480000, 0), // 72 dpi, reserved
    Buffer.from([0, 1]), // frame_count
    compressor,
    Buffer.from([0, 0x18, 0xff, 0xff]), // depth 24, pre_defined -1
    avcC,
  );
  const sizes = Buffer.alloc(samples.length * 4);
  samples.forEach((s, i) => sizes.writeUInt32BE(s.length, i * 4));
  const stblWith = (chunkOffset: number) =>
    box(
      'stbl',
      fullBox('stsd', 0, 0, u32s(1), avc1),
      fullBox('stts', 0, 0, u32s(1, samples.length, delta)),
      fullBox('stss', 0, 0, u32s(sync.length, ...sync)),
      fullBox('stsc', 0, 0, u32s(1, 1, samples.length, 1)),
      fullBox('stsz', 0, 0, u32s(0, samples.length), sizes),
      fullBox('stco', 0, 0, u32s(1, chunkOffset)),
    );
  const moovWith = (chunkOffset: number) =>
    box(
      'moov',
      fullBox('mvhd', 0, 0, u32s(0, 0, 1000, movieDuration, 0x00010000), Buffer.from([1, 0]), Buffer.alloc(10), MATRIX, Buffer.alloc(24), u32s(2)),
      box(
        'trak',
        fullBox('tkhd', 0, 3, u32s(0, 0, 1, 0, movieDuration, 0, 0, 0, 0), MATRIX, u32s(info.width * 65536, info.height * 65536)),
        box(
          'mdia',
          fullBox('mdhd', 0, 0, u32s(0, 0, TIMESCALE, duration), Buffer.from([0x55, 0xc4, 0, 0])), // language "und"
          fullBox('hdlr', 0, 0, u32s(0), Buffer.from('vide', 'latin1'), u32s(0, 0, 0), Buffer.from('VideoHandler\0', 'latin1')),
          box(
            'minf',
            fullBox('vmhd', 0, 1, Buffer.alloc(8)),
            box('dinf', fullBox('dref', 0, 0, u32s(1), fullBox('url ', 0, 1))),
            stblWith(chunkOffset),
          ),
        ),
      ),
    );
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32s(0x200), Buffer.from('isomiso2avc1mp41', 'latin1'));
  const mdatSize = 8 + samples.reduce((n, s) => n + s.length, 0);
  if (mdatSize > 0xffffffff) return null;
  // The moov's size does not depend on the offset it holds: build it once to learn where mdat's data starts.
  const offset = ftyp.length + moovWith(0).length + 8;
  const mdatHead = Buffer.alloc(8);
  mdatHead.writeUInt32BE(mdatSize, 0);
  mdatHead.write('mdat', 4, 'latin1');
  return Buffer.concat([ftyp, moovWith(offset), mdatHead, ...samples]);
}
