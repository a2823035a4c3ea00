/**
 * Human-readable texts gpsd adds next to coded fields (`status_text`,
 * `shiptype_text`, ...). The wording follows gpsd's JSON output so that our
 * lines compare equal to `gpsdecode -j`.
 */

export const NAV_STATUS = [
  'Under way using engine',
  'At anchor',
  'Not under command',
  'Restricted maneuverability',
  'Constrained by her draught',
  'Moored',
  'Aground',
  'Engaged in fishing',
  'Under way sailing',
  'Reserved for HSC',
  'Reserved for WIG',
  'Power-driven vessel towing astern',
  'Power-driven vessel pushing ahead or towing alongside',
  'Reserved',
  'AIS-SART, MOB-AIS, EPIRB-AIS',
  'Not defined',
] as const;

const EPFD = [
  'Undefined',
  'GPS',
  'GLONASS',
  'Combined GPS/GLONASS',
  'Loran-C',
  'Chayka',
  'Integrated navigation system',
  'Surveyed',
  'Galileo',
];

export function epfdText(n: number): string {
  if (n === 15) return 'Internal GNSS';
  return EPFD[n] ?? `Reserved (${n})`;
}

const SHIP_CLASS: Record<number, string> = {
  2: 'Wing in ground (WIG)',
  4: 'High speed craft (HSC)',
  6: 'Passenger',
  7: 'Cargo',
  8: 'Tanker',
  9: 'Other Type',
};
const SHIP_3X = [
  'Fishing',
  'Towing',
  'Towing: length exceeds 200m or breadth exceeds 25m',
  'Dredging or underwater ops',
  'Diving ops',
  'Military ops',
  'Sailing',
  'Pleasure Craft',
  'Reserved',
  'Reserved',
];
const SHIP_5X = [
  'Pilot Vessel',
  'Search and Rescue vessel',
  'Tug',
  'Port Tender',
  'Anti-pollution equipment',
  'Law Enforcement',
  'Spare - Local Vessel',
  'Spare - Local Vessel',
  'Medical Transport',
  'Ship according to RR Resolution No. 18',
];
const HAZARD_SUFFIX = [
  ' - all ships of this type',
  ' - Hazardous category A',
  ' - Hazardous category B',
  ' - Hazardous category C',
  ' - Hazardous category D',
  ' - Reserved for future use',
  ' - Reserved for future use',
  ' - Reserved for future use',
  ' - Reserved for future use',
  ' - No additional information',
];

export const SHIP_TYPE: readonly string[] = (() => {
  const t: string[] = [];
  for (let n = 0; n < 100; n++) {
    const tens = Math.floor(n / 10);
    const unit = n % 10;
    if (n === 0) t.push('Not available');
    else if (tens === 0 || tens === 1) t.push('Reserved for future use');
    else if (tens === 3) t.push(SHIP_3X[unit]!);
    else if (tens === 5) t.push(SHIP_5X[unit]!);
    else {
      const base = SHIP_CLASS[tens]!;
      let suffix = HAZARD_SUFFIX[unit]!;
      if (tens === 2 && unit === 9) suffix = ' - Reserved for future use';
      if (tens === 9 && unit === 9) suffix = ' - no additional information';
      t.push(base + suffix);
    }
  }
  return t;
})();

export function shipTypeText(n: number): string {
  return SHIP_TYPE[n] ?? 'INVALID SHIP TYPE';
}

const STATION_TYPE = [
  'All types of mobiles',
  'Reserved for future use',
  'All types of Class B mobile stations',
  'SAR airborne mobile station',
  'Aid to Navigation station',
  'Class B shipborne mobile station',
  'Regional use and inland waterways',
  'Regional use and inland waterways',
  'Regional use and inland waterways',
  'Regional use and inland waterways',
  'Reserved for future use',
  'Reserved for future use',
  'Reserved for future use',
  'Reserved for future use',
  'Reserved for future use',
  'Reserved for future use',
];
export function stationTypeText(n: number): string {
  return STATION_TYPE[n] ?? 'INVALID STATION TYPE';
}

const NAVAID_TYPE = [
  'Unspecified',
  'Reference point',
  'RACON',
  'Fixed offshore structure',
  'Spare, Reserved for future use.',
  'Light, without sectors',
  'Light, with sectors',
  'Leading Light Front',
  'Leading Light Rear',
  'Beacon, Cardinal N',
  'Beacon, Cardinal E',
  'Beacon, Cardinal S',
  'Beacon, Cardinal W',
  'Beacon, Port hand',
  'Beacon, Starboard hand',
  'Beacon, Preferred Channel port hand',
  'Beacon, Preferred Channel starboard hand',
  'Beacon, Isolated danger',
  'Beacon, Safe water',
  'Beacon, Special mark',
  'Cardinal Mark N',
  'Cardinal Mark E',
  'Cardinal Mark S',
  'Cardinal Mark W',
  'Port hand Mark',
  'Starboard hand Mark',
  'Preferred Channel Port hand',
  'Preferred Channel Starboard hand',
  'Isolated danger',
  'Safe Water',
  'Special Mark',
  'Light Vessel / LANBY / Rigs',
];
export function navaidTypeText(n: number): string {
  return NAVAID_TYPE[n] ?? 'INVALID NAVAID TYPE';
}

export const RACON_STATUS = ['No RACON installed', 'RACON not monitored', 'RACON operational', 'RACON ERROR'];
export const LIGHT_STATUS = ['No light or no monitoring', 'Light ON', 'Light OFF', 'Light ERROR'];
export const RTA_STATUS = ['Operational', 'Limited operation', 'Out of order', 'N/A'];
export const BERTH_POSITION = [
  'Not available',
  'Port-side to',
  'Starboard-side to',
  'Mediterranean (end-on) mooring',
  'Mooring buoy',
  'Anchorage',
  'Reserved for future use',
  'Reserved for future use',
];
export const ROUTE_TYPE: readonly string[] = (() => {
  const t = ['Undefined (default)', 'Mandatory', 'Recommended', 'Alternative', 'Recommended route through ice', 'Ship route plan'];
  while (t.length < 31) t.push('Reserved for future use.');
  t.push('Cancel route identified by message linkage');
  return t;
})();
export const ID_TYPES = ['mmsi', 'imo', 'callsign', 'other'] as const;
export const TRENDS = ['steady', 'increasing', 'decreasing', 'N/A'];
export const PRECIP_TYPES = ['reserved', 'rain', 'thunderstorm', 'freezing rain', 'mixed/ice', 'snow', 'reserved', 'N/A'];
export const ICE = ['no', 'yes', 'reserved', 'N/A'];

const SIGNAL = [
  'N/A',
  'Serious emergency – stop or divert according to instructions.',
  'Vessels shall not proceed.',
  'Vessels may proceed. One way traffic.',
  'Vessels may proceed. Two way traffic.',
  'Vessels shall proceed on specific orders only.',
  'Vessels in main channel shall not proceed.',
  'Vessels in main channel shall proceed on specific orders only.',
  'Vessels in main channel shall proceed on specific orders only.',
  'I = "in-bound" only acceptable.',
  'O = "out-bound" only acceptable.',
  'F = both "in- and out-bound" acceptable.',
  'XI = Code will shift to "I" in due time.',
  'XO = Code will shift to "O" in due time.',
  'X = Vessels shall proceed only on direction.',
];
export function signalText(n: number): string {
  return SIGNAL[n] ?? 'INVALID SIGNAL TYPE';
}

/** Inland (DAC 200) ship types: ERI code, its nearest IMO type, and the legend. */
const INLAND_SHIP_TYPES: Array<[number, number, string]> = [
  [8000, 99, 'Vessel, type unknown'],
  [8010, 79, 'Motor freighter'],
  [8020, 89, 'Motor tanker'],
  [8021, 80, 'Motor tanker, liquid cargo, type N'],
  [8022, 80, 'Motor tanker, liquid cargo, type C'],
  [8023, 89, 'Motor tanker, dry cargo as if liquid (e.g. cement)'],
  [8030, 79, 'Container vessel'],
  [8040, 80, 'Gas tanker'],
  [8050, 79, 'Motor freighter, tug'],
  [8060, 89, 'Motor tanker, tug'],
  [8070, 79, 'Motor freighter with one or more ships alongside'],
  [8080, 89, 'Motor freighter with tanker'],
  [8090, 79, 'Motor freighter pushing one or more freighters'],
  [8100, 89, 'Motor freighter pushing at least one tank-ship'],
  [8110, 79, 'Tug, freighter'],
  [8120, 89, 'Tug, tanker'],
  [8130, 31, 'Tug freighter, coupled'],
  [8140, 31, 'Tug, freighter/tanker, coupled'],
  [8150, 99, 'Freightbarge'],
  [8160, 99, 'Tankbarge'],
  [8161, 90, 'Tankbarge, liquid cargo, type N'],
  [8162, 90, 'Tankbarge, liquid cargo, type C'],
  [8163, 99, 'Tankbarge, dry cargo as if liquid (e.g. cement)'],
  [8170, 99, 'Freightbarge with containers'],
  [8180, 90, 'Tankbarge, gas'],
  [8210, 79, 'Pushtow, one cargo barge'],
  [8220, 79, 'Pushtow, two cargo barges'],
  [8230, 79, 'Pushtow, three cargo barges'],
  [8240, 79, 'Pushtow, four cargo barges'],
  [8250, 79, 'Pushtow, five cargo barges'],
  [8260, 79, 'Pushtow, six cargo barges'],
  [8270, 79, 'Pushtow, seven cargo barges'],
  [8280, 79, 'Pushtow, eigth cargo barges'],
  [8290, 79, 'Pushtow, nine or more barges'],
  [8310, 80, 'Pushtow, one tank/gas barge'],
  [8320, 80, 'Pushtow, two barges at least one tanker or gas barge'],
  [8330, 80, 'Pushtow, three barges at least one tanker or gas barge'],
  [8340, 80, 'Pushtow, four barges at least one tanker or gas barge'],
  [8350, 80, 'Pushtow, five barges at least one tanker or gas barge'],
  [8360, 80, 'Pushtow, six barges at least one tanker or gas barge'],
  [8370, 80, 'Pushtow, seven barges at least one tanker or gas barg'],
];
export function inlandShipTypeText(n: number): string {
  for (const [code, ais, legend] of INLAND_SHIP_TYPES) if (code === n || ais === n) return legend;
  return 'Illegal ship type value.';
}

const HAZARD = ['0 blue cones/lights', '1 blue cone/light', '2 blue cones/lights', '3 blue cones/lights', '4 B-Flag', 'Unknown'];
export function hazardText(n: number): string {
  return HAZARD[n] ?? 'INVALID HAZARD TYPE';
}
const LOAD_STATUS = ['N/A (default)', 'Unloaded', 'Loaded'];
export function loadedText(n: number): string {
  return LOAD_STATUS[n] ?? 'INVALID LOAD STATUS';
}
const EMMA_TYPES = ['Not Available', 'Wind', 'Rain', 'Snow and ice', 'Thunderstorm', 'Fog', 'Low temperature', 'High temperature', 'Flood', 'Forest Fire'];
export function emmaTypeText(n: number): string {
  return EMMA_TYPES[n] ?? 'INVALID EMMA TYPE';
}
const EMMA_CLASSES = ['Slight', 'Medium', 'Strong'];
export function emmaClassText(n: number): string {
  return EMMA_CLASSES[n] ?? 'INVALID EMMA TYPE';
}
const EMMA_WINDS = ['N/A', 'North', 'North East', 'East', 'South East', 'South', 'South West', 'West', 'North West'];
export function emmaWindText(n: number): string {
  return EMMA_WINDS[n] ?? 'INVALID EMMA WIND DIRECTION';
}
const DIRECTIONS = ['Unknown', 'Upstream', 'Downstream', 'To left bank', 'To right bank'];
export function directionText(n: number): string {
  return DIRECTIONS[n] ?? 'INVALID DIRECTION';
}
const SIGNAL_STATUS = ['Unknown', 'No light', 'White', 'Yellow', 'Green', 'Red', 'White flashing', 'Yellow flashing.'];
export function signalStatusText(n: number): string {
  return SIGNAL_STATUS[n] ?? 'INVALID STATUS';
}
