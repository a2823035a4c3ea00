import type { BitBuffer } from './bits.js';
import { decodeType6Application, decodeType8Application } from './binary-apps.js';
import { epfdText, NAV_STATUS, navaidTypeText, shipTypeText, stationTypeText } from './legends.js';
import type { AisMessage } from './types.js';
import type { Type24Store } from './type24.js';

export interface DecodeOptions {
  /** Scaled (human units, the default) or raw integers, like `gpsdecode -u`. */
  scaled: boolean;
  /** Copied into the `device` field when set (gpsdecode writes "stdin"). */
  device?: string;
  /**
   * Emit type 24 part A, and part B without a stored part A, on their own
   * (as the gpsd daemon does, with a `part` key). Off by default: like
   * `gpsdecode`, only merged A+B messages are emitted.
   */
  emitType24Parts?: boolean;
}

/**
 * Result of decoding one payload: a message, the reason it was rejected, or
 * null for a type 24 part held back until its other half arrives.
 */
export type DecodeResult = AisMessage | 'payload_length' | 'unknown_type' | null;

// Module-local copy: the loader may turn imported bindings into getters, which show in the profile.
const NAV: readonly string[] = NAV_STATUS.slice();

const LATLON_DIV = 600000;
const LATLON3_DIV = 60000;
const COARSE_DIV = 600;

/** MMSIs of the form 98MIDxxxx belong to craft associated with a mother ship. */
function isAuxiliaryMmsi(mmsi: number): boolean {
  return Math.floor(mmsi / 10000000) === 98;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad4(n: number): string {
  return n < 1000 ? String(n).padStart(4, '0') : String(n);
}

/**
 * ITU-R M.1371 rate of turn: ROT_AIS = 4.733·√(ROT°/min), sign carried by the
 * value. gpsd 3.22 squares without keeping the sign; we keep it (docs/ais.md).
 */
function scaledTurn(turn: number): number | string {
  if (turn === -128) return 'n/a';
  if (turn === -127) return 'fastleft';
  if (turn === 127) return 'fastright';
  const r = turn / 4.733;
  const v = Math.round(r * r * 100) / 100;
  return turn < 0 ? -v : v;
}

function scaledSpeed(speed: number): number | string {
  if (speed === 1023) return 'n/a';
  if (speed === 1022) return 'fast';
  return speed / 10;
}

/**
 * Decode one complete AIS payload held in `bits`. Never throws on any bit
 * pattern: short or malformed payloads come back as a reject reason.
 */
export function decodeAisPayload(bits: BitBuffer, opts: DecodeOptions, type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 38) return 'payload_length';
  const type = bits.u(0, 6);
  const repeat = bits.u(6, 2);
  const mmsi = bits.u(8, 30);
  const scaled = opts.scaled;
  const m: AisMessage =
    opts.device === undefined
      ? { class: 'AIS', type, repeat, mmsi, scaled }
      : { class: 'AIS', device: opts.device, type, repeat, mmsi, scaled };

  // One function per message type: V8 optimises each small body soon after it
  // first runs, where one large switch stayed unoptimised (interpreted) for most
  // of a short file and cost the most to compile. A process decoding 30,000
  // lines spends most of its time before its code is optimised.
  switch (type) {
    case 1:
    case 2:
    case 3:
      return decodePositionA(bits, m, opts, type24);
    case 4:
    case 11:
      return decodeBaseStation(bits, m, opts, type24);
    case 5:
      return decodeStaticVoyage(bits, m, opts, type24);
    case 6:
      return decodeAddressedBinary(bits, m, opts, type24);
    case 7:
    case 13:
      return decodeAcknowledge(bits, m, opts, type24);
    case 8:
      return decodeBroadcastBinary(bits, m, opts, type24);
    case 9:
      return decodeSarAircraft(bits, m, opts, type24);
    case 10:
      return decodeUtcInquiry(bits, m, opts, type24);
    case 12:
      return decodeAddressedSafety(bits, m, opts, type24);
    case 14:
      return decodeBroadcastSafety(bits, m, opts, type24);
    case 15:
      return decodeInterrogation(bits, m, opts, type24);
    case 16:
      return decodeAssignedMode(bits, m, opts, type24);
    case 17:
      return decodeDgnss(bits, m, opts, type24);
    case 18:
      return decodePositionB(bits, m, opts, type24);
    case 19:
      return decodeExtendedPositionB(bits, m, opts, type24);
    case 20:
      return decodeDataLinkManagement(bits, m, opts, type24);
    case 21:
      return decodeAidToNavigation(bits, m, opts, type24);
    case 22:
      return decodeChannelManagement(bits, m, opts, type24);
    case 23:
      return decodeGroupAssignment(bits, m, opts, type24);
    case 24:
      return decodeStaticB(bits, m, opts, type24);
    case 25:
      return decodeSingleSlotBinary(bits, m, opts, type24);
    case 26:
      return decodeMultiSlotBinary(bits, m, opts, type24);
    case 27:
      return decodeLongRangePosition(bits, m, opts, type24);
    default:
      return 'unknown_type';
  }
}

/** The position block types 18 and 19 (class B) share, bits 38–138, in gpsd's field order. */
function classBPosition(bits: BitBuffer, m: Record<string, unknown>, scaled: boolean): void {
  const speed = bits.u(46, 10);
  const lon = bits.s(57, 28);
  const lat = bits.s(85, 27);
  const course = bits.u(112, 12);
  m.reserved = bits.u(38, 8);
  m.speed = scaled ? speed / 10 : speed;
  m.accuracy = bits.u(56, 1) !== 0;
  m.lon = scaled ? lon / LATLON_DIV : lon;
  m.lat = scaled ? lat / LATLON_DIV : lat;
  m.course = scaled ? course / 10 : course;
  m.heading = bits.u(124, 9);
  m.second = bits.u(133, 6);
}

/** Types 1–3: class A position report. */
function decodePositionA(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  const type = m.type;
  const repeat = m.repeat;
  const mmsi = m.mmsi;
  if (bitlen < 163 || bitlen > 204) return 'payload_length';
  // The most common message: built as one literal so the object gets its final shape at once.
  const status = bits.u(38, 4);
  const turn = bits.s(42, 8);
  const speed = bits.u(50, 10);
  const lon = bits.s(61, 28);
  const lat = bits.s(89, 27);
  const course = bits.u(116, 12);
  const accuracy = bits.u(60, 1) !== 0;
  const heading = bits.u(128, 9);
  const second = bits.u(137, 6);
  const maneuver = bits.u(143, 2);
  const raim = bits.u(148, 1) !== 0;
  const radio = bitlen >= 168 ? bits.u(149, 19) : bits.u(149, bitlen - 149);
  const statusText = NAV[status];
  if (scaled) {
    const t = scaledTurn(turn);
    const v = scaledSpeed(speed);
    return opts.device === undefined
      ? { class: 'AIS', type, repeat, mmsi, scaled, status, status_text: statusText, turn: t, speed: v, accuracy, lon: lon / LATLON_DIV, lat: lat / LATLON_DIV, course: course / 10, heading, second, maneuver, raim, radio }
      : { class: 'AIS', device: opts.device, type, repeat, mmsi, scaled, status, status_text: statusText, turn: t, speed: v, accuracy, lon: lon / LATLON_DIV, lat: lat / LATLON_DIV, course: course / 10, heading, second, maneuver, raim, radio };
  }
  m.status = status;
  m.status_text = statusText;
  m.turn = turn;
  m.speed = speed;
  m.accuracy = accuracy;
  m.lon = lon;
  m.lat = lat;
  m.course = course;
  m.heading = heading;
  m.second = second;
  m.maneuver = maneuver;
  m.raim = raim;
  m.radio = radio;
  return m;
}

/** Types 4 and 11: base station report, UTC date response. */
function decodeBaseStation(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 168) return 'payload_length';
  const lon = bits.s(79, 28);
  const lat = bits.s(107, 27);
  const epfd = bits.u(134, 4);
  m.timestamp = `${pad4(bits.u(38, 14))}-${pad2(bits.u(52, 4))}-${pad2(bits.u(56, 5))}T${pad2(bits.u(61, 5))}:${pad2(bits.u(66, 6))}:${pad2(bits.u(72, 6))}Z`;
  m.accuracy = bits.u(78, 1) !== 0;
  m.lon = scaled ? lon / LATLON_DIV : lon;
  m.lat = scaled ? lat / LATLON_DIV : lat;
  m.epfd = epfd;
  m.epfd_text = epfdText(epfd);
  m.raim = bits.u(148, 1) !== 0;
  m.radio = bits.u(149, 19);
  return m;
}

/** Type 5: static and voyage data. */
function decodeStaticVoyage(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  // Many transmitters send 420 or 422 bits instead of 424; gpsd accepts them.
  if (bitlen < 420) return 'payload_length';
  const shiptype = bits.u(232, 8);
  const epfd = bits.u(270, 4);
  const draught = bits.u(294, 8);
  m.imo = bits.u(40, 30);
  m.ais_version = bits.u(38, 2);
  m.callsign = bits.text(70, 7);
  m.shipname = bits.text(112, 20);
  m.shiptype = shiptype;
  m.shiptype_text = shipTypeText(shiptype);
  m.to_bow = bits.u(240, 9);
  m.to_stern = bits.u(249, 9);
  m.to_port = bits.u(258, 6);
  m.to_starboard = bits.u(264, 6);
  m.epfd = epfd;
  m.epfd_text = epfdText(epfd);
  m.eta = `${pad2(bits.u(274, 4))}-${pad2(bits.u(278, 5))}T${pad2(bits.u(283, 5))}:${pad2(bits.u(288, 6))}Z`;
  m.draught = scaled ? draught / 10 : draught;
  m.destination = bits.text(302, 20);
  m.dte = bitlen >= 423 ? bits.u(422, 1) : 0;
  return m;
}

/** Type 6: addressed binary message. */
function decodeAddressedBinary(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 88 || bitlen > 1008) return 'payload_length';
  m.seqno = bits.u(38, 2);
  m.dest_mmsi = bits.u(40, 30);
  m.retransmit = bits.u(70, 1) !== 0;
  const dac = bits.u(72, 10);
  const fid = bits.u(82, 6);
  m.dac = dac;
  m.fid = fid;
  if (!decodeType6Application(bits, m, dac, fid, scaled)) {
    m.data = bits.hex(88, bitlen - 88, false);
  }
  return m;
}

/** Types 7 and 13: binary and safety acknowledge. */
function decodeAcknowledge(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 72 || bitlen > 168) return 'payload_length';
  m.mmsi1 = 40 < bitlen ? bits.u(40, 30) : 0;
  m.mmsi2 = 72 < bitlen ? bits.u(72, 30) : 0;
  m.mmsi3 = 104 < bitlen ? bits.u(104, 30) : 0;
  m.mmsi4 = 136 < bitlen ? bits.u(136, 30) : 0;
  return m;
}

/** Type 8: binary broadcast message. */
function decodeBroadcastBinary(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 56 || bitlen > 1008) return 'payload_length';
  const dac = bits.u(40, 10);
  const fid = bits.u(50, 6);
  m.dac = dac;
  m.fid = fid;
  if (!decodeType8Application(bits, m, dac, fid, scaled)) {
    m.data = bits.hex(56, bitlen - 56, true);
  }
  return m;
}

/** Type 9: SAR aircraft position. */
function decodeSarAircraft(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 168) return 'payload_length';
  const alt = bits.u(38, 12);
  const speed = bits.u(50, 10);
  const lon = bits.s(61, 28);
  const lat = bits.s(89, 27);
  const course = bits.u(116, 12);
  if (scaled) {
    m.alt = alt === 4095 ? 'n/a' : alt === 4094 ? 'high' : alt;
    m.speed = speed === 1023 ? 'n/a' : speed === 1022 ? 'fast' : speed;
  } else {
    m.alt = alt;
    m.speed = speed;
  }
  m.accuracy = bits.u(60, 1) !== 0;
  m.lon = scaled ? lon / LATLON_DIV : lon;
  m.lat = scaled ? lat / LATLON_DIV : lat;
  m.course = scaled ? course / 10 : course;
  m.second = bits.u(128, 6);
  m.regional = bits.u(134, 8);
  m.dte = bits.u(142, 1);
  m.raim = bits.u(147, 1) !== 0;
  m.radio = bits.u(148, 20);
  return m;
}

/** Type 10: UTC/date inquiry. */
function decodeUtcInquiry(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 72) return 'payload_length';
  m.dest_mmsi = bits.u(40, 30);
  return m;
}

/** Type 12: addressed safety message. */
function decodeAddressedSafety(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 72 || bitlen > 1008) return 'payload_length';
  m.seqno = bits.u(38, 2);
  m.dest_mmsi = bits.u(40, 30);
  m.retransmit = bits.u(70, 1) !== 0;
  m.text = bits.endText(72, 156);
  return m;
}

/** Type 14: safety broadcast. */
function decodeBroadcastSafety(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 40 || bitlen > 960) return 'payload_length';
  m.text = bits.endText(40, 161);
  return m;
}

/** Type 15: interrogation. */
function decodeInterrogation(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 88 || bitlen > 168) return 'payload_length';
  m.mmsi1 = bits.u(40, 30);
  m.type1_1 = bits.u(70, 6);
  m.offset1_1 = bits.u(76, 12);
  const second = 90 < bitlen;
  const third = 110 < bitlen;
  m.type1_2 = second ? bits.u(90, 6) : 0;
  m.offset1_2 = second ? bits.u(96, 12) : 0;
  m.mmsi2 = third ? bits.u(110, 30) : 0;
  m.type2_1 = third ? bits.u(140, 6) : 0;
  m.offset2_1 = third ? bits.u(146, 12) : 0;
  return m;
}

/** Type 16: assigned mode command. */
function decodeAssignedMode(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 96 || bitlen > 168) return 'payload_length';
  m.mmsi1 = bits.u(40, 30);
  m.offset1 = bits.u(70, 12);
  m.increment1 = bits.u(82, 10);
  const two = bitlen >= 144;
  m.mmsi2 = two ? bits.u(92, 30) : 0;
  m.offset2 = two ? bits.u(122, 12) : 0;
  m.increment2 = two ? bits.u(134, 10) : 0;
  return m;
}

/** Type 17: DGNSS broadcast. */
function decodeDgnss(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 80 || bitlen > 816) return 'payload_length';
  const lon = bits.s(40, 18);
  const lat = bits.s(58, 17);
  m.lon = scaled ? lon / COARSE_DIV : lon;
  m.lat = scaled ? lat / COARSE_DIV : lat;
  m.data = bits.hex(80, bitlen - 80, false);
  return m;
}

/** Type 18: class B position report. */
function decodePositionB(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 168) return 'payload_length';
  classBPosition(bits, m, scaled);
  m.regional = bits.u(139, 2);
  m.cs = bits.u(141, 1) !== 0;
  m.display = bits.u(142, 1) !== 0;
  m.dsc = bits.u(143, 1) !== 0;
  m.band = bits.u(144, 1) !== 0;
  m.msg22 = bits.u(145, 1) !== 0;
  m.raim = bits.u(147, 1) !== 0;
  m.radio = bits.u(148, 20);
  return m;
}

/** Type 19: extended class B position report. */
function decodeExtendedPositionB(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 312) return 'payload_length';
  const shiptype = bits.u(263, 8);
  const epfd = bits.u(301, 4);
  classBPosition(bits, m, scaled);
  m.regional = bits.u(139, 4);
  m.shipname = bits.text(143, 20);
  m.shiptype = shiptype;
  m.shiptype_text = shipTypeText(shiptype);
  m.to_bow = bits.u(271, 9);
  m.to_stern = bits.u(280, 9);
  m.to_port = bits.u(289, 6);
  m.to_starboard = bits.u(295, 6);
  m.epfd = epfd;
  m.epfd_text = epfdText(epfd);
  m.raim = bits.u(305, 1) !== 0;
  m.dte = bits.u(306, 1);
  m.assigned = bits.u(307, 1) !== 0;
  return m;
}

/** Type 20: data link management. */
function decodeDataLinkManagement(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 72 || bitlen > 186) return 'payload_length';
  for (let i = 0; i < 4; i++) {
    const a = 40 + 30 * i;
    m[`offset${i + 1}`] = bits.u(a, 12);
    m[`number${i + 1}`] = bits.u(a + 12, 4);
    m[`timeout${i + 1}`] = bits.u(a + 16, 3);
    m[`increment${i + 1}`] = bits.u(a + 19, 11);
  }
  return m;
}

/** Type 21: aid-to-navigation report. */
function decodeAidToNavigation(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 272 || bitlen > 368) return 'payload_length';
  const aid = bits.u(38, 5);
  const lon = bits.s(164, 28);
  const lat = bits.s(192, 27);
  const epfd = bits.u(249, 4);
  // The name continues into the extension field when the first 20 characters are all used.
  let name = bits.text(43, 20, false);
  if (name.length === 20 && bitlen > 272) name += bits.endText(272, 14);
  name = name.replace(/[ @]+$/, '');
  m.aid_type = aid;
  m.aid_type_text = navaidTypeText(aid);
  m.name = name;
  if (scaled) {
    m.lon = lon / LATLON_DIV;
    m.lat = lat / LATLON_DIV;
    m.accuracy = bits.u(163, 1) !== 0;
  } else {
    m.accuracy = bits.u(163, 1) !== 0;
    m.lon = lon;
    m.lat = lat;
  }
  m.to_bow = bits.u(219, 9);
  m.to_stern = bits.u(228, 9);
  m.to_port = bits.u(237, 6);
  m.to_starboard = bits.u(243, 6);
  m.epfd = epfd;
  m.epfd_text = epfdText(epfd);
  m.second = bits.u(253, 6);
  m.regional = bits.u(260, 8);
  m.off_position = bits.u(259, 1) !== 0;
  m.raim = bits.u(268, 1) !== 0;
  m.virtual_aid = bits.u(269, 1) !== 0;
  return m;
}

/** Type 22: channel management. */
function decodeChannelManagement(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 168) return 'payload_length';
  const addressed = bits.u(139, 1) !== 0;
  m.channel_a = bits.u(40, 12);
  m.channel_b = bits.u(52, 12);
  m.txrx = bits.u(64, 4);
  m.power = bits.u(68, 1) !== 0;
  if (addressed) {
    m.dest1 = bits.u(69, 30);
    m.dest2 = bits.u(104, 30);
  } else {
    const ne_lon = bits.s(69, 18);
    const ne_lat = bits.s(87, 17);
    const sw_lon = bits.s(104, 18);
    const sw_lat = bits.s(122, 17);
    m.ne_lon = scaled ? ne_lon / COARSE_DIV : ne_lon;
    m.ne_lat = scaled ? ne_lat / COARSE_DIV : ne_lat;
    m.sw_lon = scaled ? sw_lon / COARSE_DIV : sw_lon;
    m.sw_lat = scaled ? sw_lat / COARSE_DIV : sw_lat;
  }
  m.addressed = addressed;
  m.band_a = bits.u(140, 1) !== 0;
  m.band_b = bits.u(141, 1) !== 0;
  m.zonesize = bits.u(142, 3);
  return m;
}

/** Type 23: group assignment command. */
function decodeGroupAssignment(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen < 160) return 'payload_length';
  const ne_lon = bits.s(40, 18);
  const ne_lat = bits.s(58, 17);
  const sw_lon = bits.s(75, 18);
  const sw_lat = bits.s(93, 17);
  const stationtype = bits.u(110, 4);
  const shiptype = bits.u(114, 8);
  m.ne_lon = scaled ? ne_lon / COARSE_DIV : ne_lon;
  m.ne_lat = scaled ? ne_lat / COARSE_DIV : ne_lat;
  m.sw_lon = scaled ? sw_lon / COARSE_DIV : sw_lon;
  m.sw_lat = scaled ? sw_lat / COARSE_DIV : sw_lat;
  m.stationtype = stationtype;
  m.stationtype_text = stationTypeText(stationtype);
  m.shiptype = shiptype;
  m.shiptype_text = shipTypeText(shiptype);
  m.interval = bits.u(146, 4);
  m.quiet = bits.u(150, 4);
  return m;
}

/** Type 24: static data report (parts A and B, merged through `type24`). */
function decodeStaticB(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const mmsi = m.mmsi;
  const part = bits.u(38, 2);
  if (part === 0) {
    if (bitlen < 160 || bitlen > 168) return 'payload_length';
    const shipname = bits.text(40, 20);
    type24?.rememberPartA(mmsi, shipname);
    if (!opts.emitType24Parts && type24 !== null) return null;
    m.part = 'A';
    m.shipname = shipname;
    return m;
  }
  if (part === 1) {
    if (bitlen < 168) return 'payload_length';
    const merged = type24?.takePartA(mmsi);
    if (merged === undefined && !opts.emitType24Parts && type24 !== null) return null;
    const shiptype = bits.u(40, 8);
    if (merged === undefined) m.part = 'B';
    else m.shipname = merged;
    m.shiptype = shiptype;
    m.shiptype_text = shipTypeText(shiptype);
    m.vendorid = bits.text(48, 7);
    m.model = bits.u(66, 4);
    m.serial = bits.u(70, 20);
    m.callsign = bits.text(90, 7);
    if (isAuxiliaryMmsi(mmsi)) {
      m.mothership_mmsi = bits.u(132, 30);
    } else {
      m.to_bow = bits.u(132, 9);
      m.to_stern = bits.u(141, 9);
      m.to_port = bits.u(150, 6);
      m.to_starboard = bits.u(156, 6);
    }
    return m;
  }
  return 'unknown_type';
}

/** Type 25: single slot binary message. */
function decodeSingleSlotBinary(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 40 || bitlen > 168) return 'payload_length';
  const addressed = bits.u(38, 1) !== 0;
  const structured = bits.u(39, 1) !== 0;
  const head = 40 + (addressed ? 30 : 0) + (structured ? 16 : 0);
  if (bitlen < head) return 'payload_length';
  m.addressed = addressed;
  m.structured = structured;
  m.dest_mmsi = addressed ? bits.u(40, 30) : 0;
  m.app_id = structured ? bits.u(addressed ? 70 : 40, 16) : 0;
  m.data = bits.hex(head, bitlen - head, false);
  return m;
}

/** Type 26: multiple slot binary message. */
function decodeMultiSlotBinary(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  if (bitlen < 60 || bitlen > 1004) return 'payload_length';
  const addressed = bits.u(38, 1) !== 0;
  const structured = bits.u(39, 1) !== 0;
  const head = 40 + (addressed ? 30 : 0) + (structured ? 16 : 0);
  if (bitlen < head + 20) return 'payload_length';
  m.addressed = addressed;
  m.structured = structured;
  m.dest_mmsi = addressed ? bits.u(40, 30) : 0;
  m.app_id = structured ? bits.u(addressed ? 70 : 40, 16) : 0;
  m.data = bits.hex(head, bitlen - head - 20, false);
  // gpsd leaves the communication state undecoded and prints 0.
  m.radio = 0;
  return m;
}

/** Type 27: long range position report. */
function decodeLongRangePosition(bits: BitBuffer, m: AisMessage, opts: DecodeOptions, _type24: Type24Store | null): DecodeResult {
  const bitlen = bits.bitlen;
  const scaled = opts.scaled;
  if (bitlen !== 96 && bitlen !== 168) return 'payload_length';
  const status = bits.u(40, 4);
  const lon = bits.s(44, 18);
  const lat = bits.s(62, 17);
  m.status = status;
  if (scaled) m.status_text = NAV[status];
  m.accuracy = bits.u(38, 1) !== 0;
  m.lon = scaled ? lon / COARSE_DIV : lon;
  m.lat = scaled ? lat / COARSE_DIV : lat;
  m.speed = bits.u(79, 6);
  m.course = bits.u(85, 9);
  m.raim = bits.u(39, 1) !== 0;
  m.gnss = bits.u(94, 1) !== 0;
  return m;
}
