/**
 * Decoded AIS messages carry gpsd's JSON field names and scaling (`gpsdecode -j`),
 * so a message serialises to the same object gpsd would print. The common
 * header is typed; the per-type fields are typed for the messages the port
 * uses most (positions and static data) and left open for the rest.
 * Field reference: gpsd's AIVDM/AIS JSON documentation (see docs/ais.md).
 */

export interface AisHeader {
  class: 'AIS';
  device?: string;
  /** AIS message type 1..27. */
  type: number;
  repeat: number;
  mmsi: number;
  /** true: values in human units (degrees, knots); false: raw integers as transmitted. */
  scaled: boolean;
  [field: string]: unknown;
}

/** Not-available / out-of-range markers in scaled output. */
export type AisSentinel = 'n/a' | 'fast' | 'fastleft' | 'fastright' | 'high';

/** Types 1, 2, 3 (Class A position report), scaled. */
export interface AisClassAPosition extends AisHeader {
  type: 1 | 2 | 3;
  status: number;
  status_text: string;
  /** Rate of turn in degrees per minute (signed), or a marker. */
  turn: number | AisSentinel;
  /** Knots, or 'n/a' / 'fast'. */
  speed: number | AisSentinel;
  accuracy: boolean;
  /** Degrees; 181 means not available. */
  lon: number;
  /** Degrees; 91 means not available. */
  lat: number;
  /** Degrees; 360 means not available. */
  course: number;
  /** Degrees; 511 means not available. */
  heading: number;
  second: number;
  maneuver: number;
  raim: boolean;
  radio: number;
}

/** Types 18 and 19 (Class B position report), scaled. */
export interface AisClassBPosition extends AisHeader {
  type: 18 | 19;
  speed: number;
  accuracy: boolean;
  lon: number;
  lat: number;
  course: number;
  heading: number;
  second: number;
}

/** Type 5 (static and voyage data), scaled. */
export interface AisStaticVoyage extends AisHeader {
  type: 5;
  imo: number;
  ais_version: number;
  callsign: string;
  shipname: string;
  shiptype: number;
  shiptype_text: string;
  to_bow: number;
  to_stern: number;
  to_port: number;
  to_starboard: number;
  epfd: number;
  epfd_text: string;
  /** "MM-DDTHH:MMZ" */
  eta: string;
  /** Metres. */
  draught: number;
  destination: string;
  dte: number;
}

/** Type 24 (Class B static data); `part` is absent when parts A and B were merged. */
export interface AisStaticClassB extends AisHeader {
  type: 24;
  part?: 'A' | 'B';
  shipname?: string;
  shiptype?: number;
  shiptype_text?: string;
  vendorid?: string;
  model?: number;
  serial?: number;
  callsign?: string;
  to_bow?: number;
  to_stern?: number;
  to_port?: number;
  to_starboard?: number;
  mothership_mmsi?: number;
}

export type AisMessage = AisHeader;

/** Why a line or message was not turned into output. */
export type RejectReason =
  | 'checksum'
  | 'field_count'
  | 'payload_length'
  | 'payload_chars'
  | 'fill_bits'
  | 'fragment_number'
  | 'unknown_type'
  | 'incomplete_group'
  | 'duplicate_fragment'
  | 'tag_block'
  | 'not_nmea'
  | 'line_length'
  | 'nmea_fields'
  | 'decoder_error';

export const REJECT_REASONS: readonly RejectReason[] = [
  'checksum',
  'field_count',
  'payload_length',
  'payload_chars',
  'fill_bits',
  'fragment_number',
  'unknown_type',
  'incomplete_group',
  'duplicate_fragment',
  'tag_block',
  'not_nmea',
  'line_length',
  'nmea_fields',
  'decoder_error',
];

export function isClassAPosition(m: AisMessage): m is AisClassAPosition {
  return m.type === 1 || m.type === 2 || m.type === 3;
}

export function isClassBPosition(m: AisMessage): m is AisClassBPosition {
  return m.type === 18 || m.type === 19;
}

/** Messages that carry a vessel position in `lat`/`lon` (scaled degrees). */
export function hasPosition(m: AisMessage): m is AisMessage & { lat: number; lon: number } {
  const t = m.type;
  return (
    (t === 1 || t === 2 || t === 3 || t === 4 || t === 9 || t === 11 || t === 18 || t === 19 || t === 21 || t === 27) &&
    typeof m.lat === 'number' &&
    typeof m.lon === 'number'
  );
}
