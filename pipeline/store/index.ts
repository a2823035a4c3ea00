export { openStore, DEFAULT_DATA_DIR, type Store, type Queryable, type QueryResult, type Row, type OpenStoreOptions, type InsertRowsOptions } from './store.js';
export { capabilitiesFor, type Capabilities, type StoreKind, type TimeSeriesSpec, type AggregateSpec } from './target.js';
export { migrate, applySettings, appliedMigrations, migrationChecksum, MigrationError, type MigrateResult, type AppliedMigration } from './migrate.js';
export { MIGRATIONS, TIME_SERIES_TABLES, AGGREGATES, type Migration, type MigrationStep } from './schema.js';
export { storeStatus, formatStoreStatus, type StoreStatus } from './status.js';
export {
  BatchWriter,
  createBatchWriter,
  BackpressureError,
  WriterClosedError,
  type BatchWriterOptions,
  type BatchWriterStats,
  type RowRejection,
  type WriteResult,
} from './batch-writer.js';
export {
  eventsTable,
  detectionsTable,
  aisPositionsTable,
  cameraHealthTable,
  riskScoresTable,
  type TableSpec,
  type DetectionRecord,
  type AisPositionRecord,
  type CameraHealthRecord,
  type RiskScoreRecord,
} from './tables.js';
export { upsertVessels, type VesselRecord } from './vessels.js';
export { flushOnSignals, type FlushOnSignalsOptions } from './shutdown.js';
export { storeSettingsSchema, resolveStoreSettings, DEFAULT_STORE_SETTINGS, type StoreSettings, type HypertableName } from './settings.js';
export { copyLine, copyValue } from './copy-text.js';
export { startPolicyRunner, type PolicyRunner } from './policy-runner.js';
