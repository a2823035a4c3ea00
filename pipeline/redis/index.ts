export { RedisUrlError, redactRedisUrl, redisOptionsFromUrl } from './redis-url.js';
export { RedisOutageTracker, type RedisState } from './redis-outages.js';
export {
  connectRedis,
  describeRedisError,
  isRedisConnectionError,
  processRedisOutages,
  quietBullmqErrors,
  redisState,
  redisUp,
  watchRedis,
  type ConnectRedisOptions,
} from './connect-redis.js';
