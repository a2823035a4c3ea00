/**
 * A small AIS encoder (types 1-3 position reports and type 5 static data) that
 * writes real `!AIVDM` sentences, so simulators and tests exercise the same
 * decoder path a live receiver does. Field units are gpsd's scaled ones
 * (degrees, knots), the same the decoder produces, so encode → decode is an
 * identity up to the resolution of the bit fields.
 */

import { checksumFooter } from '../nmea/index.js';

export interface PositionReportFields {
  type?: 1 | 2 | 3;
  mmsi: number;
  /** Navigational status 0..15 (0 under way, 1 at anchor, 5 moored, 15 undefined). */
  status?: number;
  /** Degrees; 91 = not available. */
  lat: number;
  /** Degrees; 181 = not available. */
  lon: number;
  /** Knots; null = not available (1023). */
  speed: number | null;
  /** Degrees; null = not available (360). */
  course?: number | null;
  /** Degrees; null = not available (511). */
  heading?: number | null;
  /** UTC second of the fix; 60 = not available. */
  second?: number;
}

export interface StaticVoyageFields {
  mmsi: number;
  imo: number;
  callsign: string;
  shipname: string;
  shiptype: number;
  to_bow?: number;
  to_stern?: number;
  to_port?: number;
  to_starboard?: number;
  /** Metres. */
  draught?: number;
  destination?: string;
  eta?: { month: number; day: number; hour: number; minute: number };
}

export interface SentenceOptions {
  /** Tag block station (`s:`) and receive time (`c:`, Unix seconds); omitted when unset. */
  station?: string;
  time?: number;
  channel?: 'A' | 'B';
  /** Sequential message id for multi-sentence messages (0..9). */
  sequence?: number;
  talker?: string;
}

/** A bit writer, most significant bit first, as AIS lays fields out. */
class BitWriter {
  private readonly bits: number[] = [];
  u(width: number, value: number): this {
    const v = Math.trunc(value);
    for (let i = width - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }
  /** Two's complement signed field. */
  s(width: number, value: number): this {
    const v = Math.trunc(value);
    return this.u(width, v < 0 ? 2 ** width + v : v);
  }
  /** Six-bit ASCII, padded with '@' (0). */
  text(chars: number, value: string): this {
    const up = value.toUpperCase();
    for (let i = 0; i < chars; i++) {
      const c = i < up.length ? up.charCodeAt(i) : 64;
      const code = c >= 64 && c < 96 ? c - 64 : c >= 32 && c < 64 ? c : 0;
      this.u(6, code);
    }
    return this;
  }
  get length(): number {
    return this.bits.length;
  }
  /** Armoured payload and the fill bits that pad it to whole characters. */
  armour(): { payload: string; fill: number } {
    const fill = (6 - (this.bits.length % 6)) % 6;
    const all = this.bits.concat(new Array<number>(fill).fill(0));
    let payload = '';
    for (let i = 0; i < all.length; i += 6) {
      let v = 0;
      for (let j = 0; j < 6; j++) v = v * 2 + all[i + j]!;
      payload += String.fromCharCode(v < 40 ? v + 48 : v + 56);
    }
    return { payload, fill };
  }
}

/** An NMEA 4.10 tag block `\s:…,c:…*hh\`, or '' when neither is given. */
export function tagBlock(station: string | undefined, time: number | undefined): string {
  const fields: string[] = [];
  if (station !== undefined) fields.push(`s:${station}`);
  if (time !== undefined) fields.push(`c:${Math.floor(time)}`);
  if (fields.length === 0) return '';
  const body = fields.join(',');
  return `\\${body}${checksumFooter(body)}\\`;
}

/** Split an armoured payload into sentences of at most 60 characters, as receivers do. */
function sentences(payload: string, fill: number, options: SentenceOptions): string[] {
  const parts: string[] = [];
  for (let i = 0; i < payload.length; i += 60) parts.push(payload.slice(i, i + 60));
  const count = parts.length;
  const seq = count > 1 ? String(options.sequence ?? 0) : '';
  const tb = tagBlock(options.station, options.time);
  return parts.map((p, i) => {
    const body = `${options.talker ?? 'AI'}VDM,${count},${i + 1},${seq},${options.channel ?? 'A'},${p},${i === count - 1 ? fill : 0}`;
    return `${tb}!${body}${checksumFooter(body)}`;
  });
}

/** Types 1-3: one `!AIVDM` sentence. */
export function encodePositionReport(f: PositionReportFields, options: SentenceOptions = {}): string[] {
  const w = new BitWriter()
    .u(6, f.type ?? 1)
    .u(2, 0)
    .u(30, f.mmsi)
    .u(4, f.status ?? 15)
    .s(8, -128) // rate of turn not available
    .u(10, f.speed === null ? 1023 : Math.min(1022, Math.round(f.speed * 10)))
    .u(1, 0)
    .s(28, Math.round(f.lon * 600_000))
    .s(27, Math.round(f.lat * 600_000))
    .u(12, f.course === null || f.course === undefined ? 3600 : Math.round(f.course * 10) % 3600)
    .u(9, f.heading === null || f.heading === undefined ? 511 : Math.round(f.heading) % 360)
    .u(6, f.second ?? 60)
    .u(2, 0)
    .u(3, 0)
    .u(1, 0)
    .u(19, 0);
  const { payload, fill } = w.armour();
  return sentences(payload, fill, options);
}

/** Type 5: two `!AIVDM` sentences (424 bits). */
export function encodeStaticVoyage(f: StaticVoyageFields, options: SentenceOptions = {}): string[] {
  const eta = f.eta ?? { month: 0, day: 0, hour: 24, minute: 60 };
  const w = new BitWriter()
    .u(6, 5)
    .u(2, 0)
    .u(30, f.mmsi)
    .u(2, 0)
    .u(30, f.imo)
    .text(7, f.callsign)
    .text(20, f.shipname)
    .u(8, f.shiptype)
    .u(9, f.to_bow ?? 0)
    .u(9, f.to_stern ?? 0)
    .u(6, f.to_port ?? 0)
    .u(6, f.to_starboard ?? 0)
    .u(4, 1) // EPFD: GPS
    .u(4, eta.month)
    .u(5, eta.day)
    .u(5, eta.hour)
    .u(6, eta.minute)
    .u(8, Math.round((f.draught ?? 0) * 10))
    .text(20, f.destination ?? '')
    .u(1, 0)
    .u(1, 0);
  const { payload, fill } = w.armour();
  return sentences(payload, fill, options);
}
