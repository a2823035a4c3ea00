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

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  label?: string;
  score?: number;
}

export interface Alert {
  id: string;
  rule: string;
  rule_name?: string | null;
  kind: string;
  severity: Priority;
  state: AlertState;
  camera?: string | null;
  zone?: string | null;
  berth?: string | null;
  mmsi?: number | null;
  score?: number | null;
  title?: string | null;
  created_at: string;
  first?: string;
  last?: string;
  priority?: number;
  active?: boolean;
  updated_at?: string | null;
  shelved_until?: string | null;
  snapshots?: string[];
  clip?: string | null;
  boxes?: Box[];
  track?: Point[];
  zone_polygon?: Point[] | null;
  procedure?: string[];
  history?: { at: string; action: string; by?: string | null; comment?: string | null }[];
  count?: number;
}
