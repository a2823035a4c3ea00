import { describe, expect, it } from 'vitest';
import { assertTimeZone, compileSchedule, isArmed, localTime, parseClock, scheduleArmed } from '../pipeline/zones/index.js';

// 2026-01-05 is a Monday (2026-01-01 was a Thursday).
const utc = (d: number, h: number, m = 0, month = 0) => Date.UTC(2026, month, d, h, m);

describe('localTime', () => {
  it('gives the weekday and minute in the site time zone', () => {
    // 10:00 UTC is 18:00 in Shanghai (UTC+8 all year).
    expect(localTime(utc(5, 10), 'Asia/Shanghai')).toEqual({ weekday: 1, minute: 18 * 60 });
    // 20:00 UTC Monday is 04:00 Tuesday there.
    expect(localTime(utc(5, 20), 'Asia/Shanghai')).toEqual({ weekday: 2, minute: 4 * 60 });
    // Midnight is minute 0, not 24:00.
    expect(localTime(utc(5, 16), 'Asia/Shanghai')).toEqual({ weekday: 2, minute: 0 });
    expect(localTime(new Date(utc(5, 0, 30)), 'UTC')).toEqual({ weekday: 1, minute: 30 });
  });
});

describe('schedules', () => {
  const tz = 'Asia/Shanghai';

  it('a daytime window: start inclusive, end exclusive', () => {
    const w = [{ days: ['mon' as const], from: '08:00', to: '17:00' }];
    expect(scheduleArmed(w, utc(5, 0), tz)).toBe(true); // Mon 08:00
    expect(scheduleArmed(w, utc(5, 8, 59), tz)).toBe(true); // Mon 16:59
    expect(scheduleArmed(w, utc(5, 9), tz)).toBe(false); // Mon 17:00
    expect(scheduleArmed(w, utc(4, 23, 59), tz)).toBe(false); // Mon 07:59
    expect(scheduleArmed(w, utc(6, 1), tz)).toBe(false); // Tue 09:00
  });

  it('a window wrapping midnight belongs to the day it opens', () => {
    const w = [{ days: ['mon' as const], from: '18:00', to: '06:00' }];
    expect(scheduleArmed(w, utc(5, 10), tz)).toBe(true); // Mon 18:00
    expect(scheduleArmed(w, utc(5, 15, 59), tz)).toBe(true); // Mon 23:59
    expect(scheduleArmed(w, utc(5, 16), tz)).toBe(true); // Tue 00:00
    expect(scheduleArmed(w, utc(5, 21, 59), tz)).toBe(true); // Tue 05:59
    expect(scheduleArmed(w, utc(5, 22), tz)).toBe(false); // Tue 06:00
    expect(scheduleArmed(w, utc(4, 21), tz)).toBe(false); // Mon 05:00: Sunday's night, not listed
    expect(scheduleArmed(w, utc(6, 10), tz)).toBe(false); // Tue 18:00: Tuesday not listed
    expect(scheduleArmed(w, utc(5, 9, 59), tz)).toBe(false); // Mon 17:59
  });

  it('the same instant is armed or not depending on the site time zone', () => {
    const w = [{ days: ['mon' as const, 'tue' as const, 'wed' as const, 'thu' as const, 'fri' as const], from: '09:00', to: '17:00' }];
    const instant = utc(5, 10); // Mon 10:00 UTC
    expect(scheduleArmed(w, instant, 'UTC')).toBe(true);
    expect(scheduleArmed(w, instant, 'Asia/Shanghai')).toBe(false); // 18:00
    expect(scheduleArmed(w, instant, 'America/New_York')).toBe(false); // 05:00
  });

  it('follows daylight saving time', () => {
    // Amsterdam switches from UTC+1 to UTC+2 on 2026-03-29.
    const w = [{ days: ['sat' as const, 'sun' as const, 'mon' as const], from: '09:00', to: '10:00' }];
    expect(scheduleArmed(w, utc(28, 8, 30, 2), 'Europe/Amsterdam')).toBe(true); // Sat 09:30 CET
    expect(scheduleArmed(w, utc(30, 7, 30, 2), 'Europe/Amsterdam')).toBe(true); // Mon 09:30 CEST
    expect(scheduleArmed(w, utc(30, 8, 30, 2), 'Europe/Amsterdam')).toBe(false); // Mon 10:30 CEST
  });

  it('from = to is a whole day, 24:00 is the end of the day, no windows is always', () => {
    const full = compileSchedule([{ days: ['wed'], from: '07:00', to: '07:00' }], 'z');
    expect(isArmed(full, { weekday: 3, minute: 7 * 60 })).toBe(true);
    expect(isArmed(full, { weekday: 4, minute: 6 * 60 + 59 })).toBe(true);
    expect(isArmed(full, { weekday: 4, minute: 7 * 60 })).toBe(false);
    expect(isArmed(full, { weekday: 3, minute: 6 * 60 })).toBe(false);
    const late = compileSchedule([{ days: ['sat'], from: '20:00', to: '24:00' }], 'z');
    expect(isArmed(late, { weekday: 6, minute: 23 * 60 + 59 })).toBe(true);
    expect(isArmed(late, { weekday: 0, minute: 0 })).toBe(false);
    expect(isArmed([], { weekday: 2, minute: 0 })).toBe(true);
    expect(scheduleArmed(undefined, utc(5, 3), tz)).toBe(true);
  });

  it('rejects bad clocks, days and time zones with where and what to write', () => {
    expect(parseClock('24:00', 'x')).toBe(1440);
    expect(() => parseClock('25:00', 'zones[0].schedule[0].from')).toThrow(/zones\[0\]\.schedule\[0\]\.from: "25:00" is not a time of day/);
    expect(() => parseClock('7pm', 'x')).toThrow(/HH:MM/);
    expect(() => parseClock('24:30', 'x')).toThrow();
    expect(() => compileSchedule([{ days: ['monday' as never], from: '08:00', to: '09:00' }], 'gate')).toThrow(/gate\.schedule\[0\]\.days: "monday"/);
    expect(() => compileSchedule([{ days: [], from: '08:00', to: '09:00' }], 'gate')).toThrow(/at least one/);
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(/IANA/);
    expect(() => assertTimeZone('Asia/Shanghai')).not.toThrow();
  });
});
