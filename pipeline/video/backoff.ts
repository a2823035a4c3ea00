// Cameras and AIS feeds reconnect with the same policy; it lives in pipeline/retry.
export { Backoff, type BackoffOptions } from '../retry/index.js';
