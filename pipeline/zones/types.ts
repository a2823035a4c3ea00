/**
 * Zone and tripwire shapes as the site config gives them. Coordinates are
 * normalised image coordinates (0..1, origin top-left), so a zone survives a
 * change of stream resolution. These types are the contract between
 * `pipeline/config` (which validates them) and `pipeline/zones` (which runs them).
 */
export type Point = [number, number];

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** A window in the site's local time; `from` > `to` wraps past midnight (e.g. 18:00–06:00). */
export interface ScheduleWindow {
  days: Weekday[];
  from: string; // "HH:MM"
  to: string; // "HH:MM"
}

export type ZoneKind = 'restricted' | 'cargo' | 'watch';

export interface ZoneSpec {
  id: string;
  name?: string;
  kind: ZoneKind;
  polygon: Point[];
  /** Detector classes this zone cares about, e.g. ["person"] or ["truck", "car"]. */
  classes: string[];
  /** When the rule is armed; absent or empty means always. */
  schedule?: ScheduleWindow[];
  /** Seconds an object must stay inside before it counts (restricted, cargo). */
  min_dwell_seconds: number;
  /** Seconds inside after which a loitering event is raised; absent means no loitering rule. */
  loiter_seconds?: number;
}

/**
 * A line from a to b. Looking from a towards b, `a_to_b`-side crossing means
 * moving from the left of the line to its right (clockwise); `b_to_a` the reverse.
 */
export type TripwireDirection = 'left_to_right' | 'right_to_left' | 'both';

export interface TripwireSpec {
  id: string;
  name?: string;
  line: [Point, Point];
  direction: TripwireDirection;
  classes: string[];
  schedule?: ScheduleWindow[];
}
