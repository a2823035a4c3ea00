import type { ScheduleWindow, Weekday } from './types.js';

const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
export interface CompiledWindow {
  days: Set<number>; // 0 = Sunday
  from: number; // minutes after local midnight
  to: number; // minutes after local midnight; 1440 for "24:00"
}

/** Parses "HH:MM" (00:00–24:00); throws with the offending text and where it was found. */
export function parseClock(text: string, where: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  const hours = m ? Number(m[1]) : NaN;
  const minutes = m ? Number(m[2]) : NaN;
  if (!m || hours > 24 || minutes > 59 || (hours === 24 && minutes !== 0)) {
    throw new RangeError(`${where}: "${text}" is not a time of day; write HH:MM between 00:00 and 24:00`);
  }
  return hours * 60 + minutes;
}

export function compileSchedule(windows: readonly ScheduleWindow[] | undefined, where: string): CompiledWindow[] {
  return (windows ?? []).map((w, i) => {
    const at = `${where}.schedule[${i}]`;
    if (!Array.isArray(w.days) || w.days.length === 0) throw new RangeError(`${at}.days: list at least one of ${WEEKDAYS.join(', ')}`);
    const days = new Set<number>();
    for (const d of w.days) {
      const idx = WEEKDAYS.indexOf(d);
      if (idx < 0) throw new RangeError(`${at}.days: "${String(d)}" is not one of ${WEEKDAYS.join(', ')}`);
      days.add(idx);
    }
    return { days, from: parseClock(w.from, `${at}.from`), to: parseClock(w.to, `${at}.to`) };
  });
}

/** A site's local weekday (0 = Sunday) and minute of the day. */
export interface LocalTime {
  weekday: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Checks the IANA name once, up front, so a typo fails at start-up and not at the first event. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch {
    throw new RangeError(`time zone "${timeZone}" is not an IANA time zone name (e.g. "Asia/Shanghai", "UTC")`);
  }
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

const SHORT_DAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function localTime(time: Date | number, timeZone: string): LocalTime {
  const parts = formatter(timeZone).formatToParts(typeof time === 'number' ? new Date(time) : time);
  let weekday = -1;
  let hour = 0;
  let minute = 0;
  for (const p of parts) {
    if (p.type === 'weekday') weekday = SHORT_DAYS[p.value] ?? -1;
    else if (p.type === 'hour') hour = Number(p.value) % 24;
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

/**
 * Whether any window is open at this local time. A window belongs to the day
 * it opens on: "mon 18:00–06:00" runs from Monday evening to Tuesday morning.
 * `from` equal to `to` means the whole 24 hours from `from`. No windows: always armed.
 */
export function isArmed(windows: readonly CompiledWindow[], local: LocalTime): boolean {
  if (windows.length === 0) return true;
  const yesterday = (local.weekday + 6) % 7;
  for (const w of windows) {
    if (w.from < w.to) {
      if (w.days.has(local.weekday) && local.minute >= w.from && local.minute < w.to) return true;
    } else {
      // Wraps past midnight (a full day when from === to): the evening part
      // belongs to the listed day, the morning part to the day after it.
      if (w.days.has(local.weekday) && local.minute >= w.from) return true;
      if (w.days.has(yesterday) && local.minute < w.to) return true;
    }
  }
  return false;
}

/** Convenience: is the schedule armed at `time` in `timeZone`. */
export function scheduleArmed(windows: readonly ScheduleWindow[] | undefined, time: Date | number, timeZone: string): boolean {
  const compiled = compileSchedule(windows, 'schedule');
  return isArmed(compiled, localTime(time, timeZone));
}
