export * from './types.js';
export { eventId } from './event-id.js';
