export { buildApiServer, DEFAULT_WEB_ROOT, type ApiServer, type ApiServerOptions } from './server.js';
export { access, principalOf, type Access } from './access.js';
export { ApiError, badRequest, notFound, forbidden, errorSchema, type ApiErrorBody } from './errors.js';
export type { ApiContext } from './context.js';
export {
  ROLES,
  createApiToken,
  listApiTokens,
  revokeApiToken,
  verifyApiToken,
  parseExpiry,
  hashToken,
  TokenError,
  type Role,
  type Principal,
  type ApiTokenInfo,
  type CreateTokenOptions,
} from './tokens.js';
export {
  queryBerthActivity,
  berthActivityChunks,
  berthActivitySql,
  bucketStart,
  bucketCount,
  BERTH_ACTIVITY_COLUMNS,
  type BerthActivityQuery,
  type BerthActivityRow,
} from './berth-activity.js';
export { berthActivityCsvValues, berthCameras } from './routes/berths.js';
export { BUCKETS, type Bucket } from './params.js';
export { csvLine, csvField, csvStream } from './csv.js';
export { LiveStreamHub, type LiveStreamHubOptions } from './live-stream-hub.js';
