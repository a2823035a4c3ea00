/**
 * MMSI and IMO number checks. An MMSI's leading digits say what kind of
 * station sent it (ITU-R M.585); a ship's must start with a Maritime
 * Identification Digit (MID) between 201 and 775. An IMO number's seventh
 * digit is a check digit over the first six.
 */
export type MmsiKind = 'ship' | 'group' | 'coast_station' | 'sar_aircraft' | 'aid_to_navigation' | 'craft_with_parent' | 'sart' | 'mob' | 'epirb' | 'invalid';

export interface MmsiCheck {
  kind: MmsiKind;
  /** Why an invalid MMSI is invalid, in words an operator understands. */
  reason?: string;
}

const isMid = (mid: number) => mid >= 201 && mid <= 775;

export function checkMmsi(mmsi: number): MmsiCheck {
  if (!Number.isInteger(mmsi) || mmsi <= 0 || mmsi > 999_999_999) return { kind: 'invalid', reason: 'not a 9-digit number' };
  const s = String(mmsi).padStart(9, '0');
  const first3 = Number(s.slice(0, 3));
  if (s.startsWith('970')) return { kind: 'sart' };
  if (s.startsWith('972')) return { kind: 'mob' };
  if (s.startsWith('974')) return { kind: 'epirb' };
  if (s.startsWith('111')) return isMid(Number(s.slice(3, 6))) ? { kind: 'sar_aircraft' } : { kind: 'invalid', reason: `SAR aircraft MMSI with unallocated MID ${s.slice(3, 6)}` };
  if (s.startsWith('98')) return isMid(Number(s.slice(2, 5))) ? { kind: 'craft_with_parent' } : { kind: 'invalid', reason: `craft MMSI with unallocated MID ${s.slice(2, 5)}` };
  if (s.startsWith('99')) return isMid(Number(s.slice(2, 5))) ? { kind: 'aid_to_navigation' } : { kind: 'invalid', reason: `aid-to-navigation MMSI with unallocated MID ${s.slice(2, 5)}` };
  if (s.startsWith('00')) return isMid(Number(s.slice(2, 5))) ? { kind: 'coast_station' } : { kind: 'invalid', reason: `coast-station MMSI with unallocated MID ${s.slice(2, 5)}` };
  if (s.startsWith('0')) return isMid(Number(s.slice(1, 4))) ? { kind: 'group' } : { kind: 'invalid', reason: `group MMSI with unallocated MID ${s.slice(1, 4)}` };
  if (isMid(first3)) return { kind: 'ship' };
  return { kind: 'invalid', reason: `MID ${first3} is not allocated to any country (ships use 201–775)` };
}

/** True when `imo` is a 7-digit IMO ship number with a correct check digit. */
export function isValidImo(imo: number): boolean {
  if (!Number.isInteger(imo) || imo < 1_000_000 || imo > 9_999_999) return false;
  const d = String(imo).split('').map(Number);
  const sum = d.slice(0, 6).reduce((acc, digit, i) => acc + digit * (7 - i), 0);
  return sum % 10 === d[6];
}
