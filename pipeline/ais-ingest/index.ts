export { AisIngest, positionId, type AisIngestOptions, type AisIngestStats, type EventPublisher } from './ingest.js';
export { readPosition, readStatic, aisText, parseEta, VESSEL_POSITION_TYPES, VESSEL_STATIC_TYPES, type PositionFix } from './records.js';
export { berthAreas, createFeed, type FeedOverrides } from './site.js';
export {
  encodePositionReport,
  encodeStaticVoyage,
  tagBlock,
  type PositionReportFields,
  type StaticVoyageFields,
  type SentenceOptions,
} from './encode.js';
export { berthOccupancyHourly, BERTH_OCCUPANCY_HOURLY_SQL, type BerthOccupancyHour } from './occupancy-query.js';
export { aisIngestSettingsSchema, parseAisIngestSettings, aisStageOptions, mergeAisSettings, type AisIngestSettings } from './settings.js';
export { startAisService, type AisService, type AisServiceOptions } from './service.js';
