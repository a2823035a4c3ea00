export { EventQueue, DEFAULT_EVENT_QUEUE, type EventQueueOptions, type KeepJobs, type PublishManyResult } from './event-queue.js';
export { consumeEvents, type ConsumeEventsOptions, type EventConsumer, type EventHandler, type EventJobInfo } from './consume-events.js';
export { eventJobId, eventProblem, reviveEvent } from './event-job.js';
export { OutboxRelay, type OutboxRelayOptions, type OutboxRelayStats } from './outbox-relay.js';
