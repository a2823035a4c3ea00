export { Backoff, type BackoffOptions } from '../retry/index.js';
export { LineSplitter, type LineSplitterOptions } from './line-splitter.js';
export { lineTime } from './line-time.js';
export { TcpLineFeed, type TcpFeedOptions } from './tcp-feed.js';
export { UdpLineFeed, type UdpFeedOptions } from './udp-feed.js';
export { FileLineFeed, type FileFeedOptions } from './file-feed.js';
export type { FeedStats, LineFeed, LineHandler, LineMeta } from './types.js';
