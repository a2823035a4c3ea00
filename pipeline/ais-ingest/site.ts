import type { BerthArea } from '../berths/index.js';
import type { BerthConfig, FeedConfig } from '../config/index.js';
import { FileLineFeed, TcpLineFeed, UdpLineFeed, type LineFeed } from '../feeds/index.js';
import type { Logger } from '../log/index.js';

/** The site config's berths as the occupancy stage sees them (polygons are [lat, lon] in both). */
export function berthAreas(berths: readonly BerthConfig[]): BerthArea[] {
  return berths.map((b) => ({
    id: b.id,
    name: b.name,
    polygon: b.polygon.map(([lat, lon]) => [lat, lon] as [number, number]),
    schedule: b.schedule.map((a) => ({ mmsi: a.mmsi, from: a.from, to: a.to })),
  }));
}

export interface FeedOverrides {
  /** File feeds: realtime speed-up factor. */
  speed?: number;
  /** File feeds: replay mode, overriding the config. */
  replay?: 'fast' | 'realtime';
  /** File feeds: loop, overriding the config. */
  loop?: boolean;
}

/** One line feed per configured feed: TCP client, UDP listener or file replay. */
export function createFeed(feed: FeedConfig, logger: Logger, overrides: FeedOverrides = {}): LineFeed {
  const station = feed.station_id;
  const common = { id: feed.id, logger, ...(station !== undefined ? { station } : {}) };
  switch (feed.protocol) {
    case 'tcp':
      return new TcpLineFeed({ ...common, host: feed.host, port: feed.port, backoff: { baseMs: feed.reconnect_seconds * 1000 } });
    case 'udp':
      return new UdpLineFeed({ ...common, host: feed.host, port: feed.port });
    case 'file':
      return new FileLineFeed({
        ...common,
        path: feed.path,
        mode: overrides.replay ?? feed.replay,
        loop: overrides.loop ?? feed.loop,
        ...(overrides.speed !== undefined ? { speed: overrides.speed } : {}),
      });
  }
}
