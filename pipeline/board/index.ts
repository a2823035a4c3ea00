export {
  BoardStream,
  BOARD_MESSAGE_TYPES,
  DEFAULT_BOARD_PREFIX,
  DEFAULT_BOARD_MAXLEN,
  compareStreamIds,
  type BoardMessage,
  type BoardMessageType,
  type BoardStreamOptions,
  type BoardReadOptions,
  type BoardReadResult,
} from './board-stream.js';
