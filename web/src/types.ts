/** The shapes the page reads from the API (pipeline/api). */

export type LatLon = [number, number];
export type Point = [number, number];

export interface SiteCamera {
  id: string;
  name: string;
  kind: string;
  berth?: string | null;
  position?: LatLon | null;
  inspector?: string | null;
  zones?: { id: string; name?: string; kind: string; polygon: Point[] }[];
  tripwires?: { id: string; name?: string; line: [Point, Point] }[];
}

export interface SiteGeometry {
  site: { name: string; timezone: string };
  cameras: SiteCamera[];
  berths: { id: string; name: string; polygon: LatLon[] }[];
  port_area?: LatLon[] | null;
  channels?: { id: string; polygon: LatLon[]; speed_limit_kn?: number }[];
  inspectors?: { id: string; name: string }[];
  chart?: { tile_url?: string | null } | null;
}

export interface Vessel {
  mmsi: number;
  name?: string | null;
  lat: number;
  lon: number;
  sog?: number | null;
  cog?: number | null;
  heading?: number | null;
  time?: string | null;
  berth?: string | null;
  berth_since?: string | null;
  risk_level?: string | null;
  risk_score?: number | null;
}

export type Priority = 'info' | 'low' | 'medium' | 'high' | 'critical';
export type AlertState = 'open' | 'acknowledged' | 'dispatched' | 'resolved' | 'false_alarm';

/** An alert as GET /api/alerts and the board's `alert` events carry it. */
export interface Alert {
  id: string;
  rule: string;
  kind: string;
  kinds?: string[];
  severity: Priority;
  priority?: number;
  state: AlertState;
  active?: boolean;
  camera?: string | null;
  zone?: string | null;
  berth?: string | null;
  mmsi?: number | null;
  first_at?: string;
  last_at?: string;
  created_at: string;
  updated_at?: string | null;
  acknowledged_by?: string | null;
  closed_by?: string | null;
  shelved?: boolean;
  shelved_until?: string | null;
  shelved_reason?: string | null;
  flood_count?: number | null;
  objects?: { event: string; kind: string; track: number | null; class: string | null; score: number | null; snapshot: string | null; first: string; last: string; active: boolean }[];
  snapshots?: string[];
  clip?: string | null;
  procedure?: string[];
  /** Where each object went (GET /api/alerts/:id): normalised ground points, oldest first. */
  track_paths?: { event: string; track: number | null; points: Point[] }[];
  history?: { at: string; action: string; by?: string | null; from_state?: string | null; to_state?: string | null; comment?: string | null }[];
}
