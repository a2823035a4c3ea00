/**
 * Site-local time. The site file writes shifts, zone schedules and berth
 * assignments in the port's own clock; these helpers check the IANA zone and
 * turn a local date-time into an instant.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The canonical IANA name ("Asia/Shanghai"), or null when Intl does not know
 * the zone. Offsets such as "+08:00" are refused: they ignore daylight saving,
 * and a port's clock is a place, not an offset.
 */
export function canonicalTimeZone(name: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Milliseconds the zone's wall clock is ahead of UTC at the instant `utcMs`. */
export function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(utcMs));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * "2026-11-27T06:00" (site-local) or "2026-11-27T06:00+08:00" / "...Z" (explicit)
 * to a Date; null when the text is not such a date-time or names a day that
 * does not exist. A local time inside a daylight-saving gap resolves to the
 * instant after the gap.
 */
export function parseSiteDateTime(text: string, timeZone: string): Date | null {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, zone] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)] as const;
  const wall = Date.UTC(...fields);
  const check = new Date(wall);
  if (check.getUTCMonth() !== fields[1] || check.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) return null;
  if (zone) {
    if (zone === 'Z') return new Date(wall);
    const sgn = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = sgn * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    return new Date(wall - offset);
  }
  let t = wall - zoneOffsetMs(wall, timeZone);
  const second = zoneOffsetMs(t, timeZone);
  if (wall - second !== t) t = wall - second;
  return new Date(t);
}
