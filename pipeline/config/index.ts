export {
  checkSiteConfig,
  checkSiteConfigText,
  loadSiteConfig,
  formatIssue,
  summarizeSiteConfig,
  ConfigError,
  type ConfigIssue,
  type ConfigCheckResult,
  type EnvReference,
  type LoadOptions,
  type CheckTextOptions,
  type SiteSummary,
} from './load.js';
export { redactSiteConfig } from './redact.js';
export { detectStreamUrl } from './camera.js';
export { redactUrl, resolveEnvReferences, hasEnvReference, isEnvField } from './env.js';
export { canonicalTimeZone, parseSiteDateTime, zoneOffsetMs } from './time.js';
export { polygonProblem } from './geometry.js';
export type { IssueCode } from './expand.js';
export {
  makeSiteConfigSchema,
  cameraSchema,
  zoneSchema,
  tripwireSchema,
  detectSchema,
  scheduleWindowSchema,
  CAMERA_KINDS,
  ZONE_KINDS,
  TRIPWIRE_DIRECTIONS,
  WEEKDAYS,
  SEVERITIES,
  FEED_PROTOCOLS,
  ALERT_ROUTE_KINDS,
  INSPECTOR_SKILLS,
  EVENT_KINDS,
  DETECT_DEFAULTS,
  type SiteConfig,
  type CameraConfig,
  type DetectSettings,
  type ZoneConfig,
  type TripwireConfig,
  type BerthConfig,
  type BerthAssignment,
  type FeedConfig,
  type InspectorConfig,
  type AlertRoute,
  type AlertRule,
  type AisConfig,
  type CameraKind,
  type Severity,
  type InspectorSkill,
  type FeedProtocol,
} from './schema.js';
