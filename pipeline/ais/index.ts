/**
 * AIS decoding: NMEA framing and reassembly → gpsd-compatible messages.
 * See docs/ais.md for the design and the deviations from gpsd.
 */
export { BitBuffer, ARMOUR, MAX_PAYLOAD_CHARS } from './bits.js';
export { decodeAisPayload, type DecodeOptions, type DecodeResult } from './decode.js';
export { Type24Store } from './type24.js';
export { FragmentReassembler, type Fragment, type AddResult } from './reassembler.js';
export {
  AisLineDecoder,
  type AisDecoderOptions,
  type AisRecord,
  type NmeaRecord,
  type FeedRecord,
  type DecodeStats,
  type RejectSample,
  type ReceiveMeta,
} from './line-decoder.js';
export { AisDecodeStream, createAisDecodeStream, decodeAisLines, decodeAisReadable, aisJsonObject, aisJsonLine, writeAisJson, receiveFields } from './stream.js';
export { messageJson, messageJsonWith, jsonString, writeMessageJson, writeJsonValue, MESSAGE_JSON_ROOM } from './json.js';
export {
  REJECT_REASONS,
  hasPosition,
  isClassAPosition,
  isClassBPosition,
  type AisClassAPosition,
  type AisClassBPosition,
  type AisHeader,
  type AisMessage,
  type AisSentinel,
  type AisStaticClassB,
  type AisStaticVoyage,
  type RejectReason,
} from './types.js';
export { NAV_STATUS, SHIP_TYPE, epfdText, shipTypeText } from './legends.js';
