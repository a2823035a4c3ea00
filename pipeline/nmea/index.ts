export { checksumFooter, checksumMatches, hexDigit, xorChecksum } from './checksum.js';
export { parseTagBlock, tagBlockFields, tagTimeIso, type TagBlock } from './tag-block.js';
export {
  frameSentence,
  isSkippable,
  MAX_LINE_LENGTH,
  parseUscgTrailer,
  sentenceChecksum,
  sentenceFields,
  trimLine,
  type FrameError,
  type FramedSentence,
  type UscgTrailer,
} from './sentence.js';
export {
  OTHER_NMEA_FORMATTERS,
  parseAlr,
  parseGatehouse,
  parseOtherNmea,
  parseTtm,
  type AlrSentence,
  type GatehouseHeader,
  type OtherNmeaSentence,
  type TtmSentence,
} from './other-sentences.js';
