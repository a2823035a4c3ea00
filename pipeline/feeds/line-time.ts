/**
 * The time a recorded NMEA line was received, when the line says so:
 * an NMEA 4.10 tag block `c:` field (Unix seconds, or milliseconds when 13
 * digits), a US Coast Guard trailing epoch (`…*hh,s…,r…,1569888000`), or a
 * leading epoch as many loggers write (`1569888000.123 !AIVDM…`).
 * Returns ms since the epoch, or null.
 */
export function lineTime(line: string): number | null {
  if (line.charCodeAt(0) === 92 /* \ */) {
    const end = line.indexOf('\\', 1);
    if (end > 0) {
      const m = /(?:^|,)c:(\d{9,13})/.exec(line.slice(1, end));
      if (m) return toMs(m[1]!);
    }
  }
  const lead = /^(\d{9,10}(?:\.\d+)?)\s+[!$\\]/.exec(line);
  if (lead) return Math.round(Number(lead[1]) * 1000);
  const star = line.lastIndexOf('*');
  if (star > 0) {
    const trail = /,(\d{10})(?:\.\d+)?\s*$/.exec(line.slice(star));
    if (trail) return Number(trail[1]) * 1000;
  }
  return null;
}

function toMs(digits: string): number {
  return digits.length >= 13 ? Number(digits) : Number(digits) * 1000;
}
