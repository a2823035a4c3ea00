export { createMetricsRegistry, registerPortwatchMetrics, type MetricSources, type MetricsRegistryOptions, type CameraStatsSource, type AisStatsSource, type QueueStatsSource } from './portwatch-metrics.js';
export { startMetricsServer, type MetricsServer } from './metrics-server.js';
export { runtimeSources, storeSources, bullQueueSource } from './runtime-sources.js';
