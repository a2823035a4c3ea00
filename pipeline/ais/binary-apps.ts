/**
 * Application-specific payloads of binary messages (type 6 addressed, type 8
 * broadcast), keyed by DAC (designated area code) and FID (function id): the
 * IMO 236/289 international messages (DAC 1), inland AIS (DAC 200) and the
 * UK/Ireland lighthouse authorities' AtoN monitoring (DAC 235/250), as gpsd
 * decodes them. Each decoder returns false when the payload does not fit, so
 * the caller falls back to the raw "bits:hex" data field as gpsd does.
 */
import type { BitBuffer } from './bits.js';
import {
  BERTH_POSITION,
  directionText,
  emmaClassText,
  emmaTypeText,
  emmaWindText,
  hazardText,
  ICE,
  ID_TYPES,
  inlandShipTypeText,
  LIGHT_STATUS,
  loadedText,
  PRECIP_TYPES,
  RACON_STATUS,
  ROUTE_TYPE,
  RTA_STATUS,
  signalStatusText,
  signalText,
  TRENDS,
} from './legends.js';
import type { AisMessage } from './types.js';

const LATLON_DIV = 600000; // 1/10000 minute
const LATLON3_DIV = 60000; // 1/1000 minute

function p2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "MM-DDTHH:MMZ" as gpsd writes partial dates. */
function mdhm(month: number, day: number, hour: number, minute: number, zulu = true): string {
  return `${p2(month)}-${p2(day)}T${p2(hour)}:${p2(minute)}${zulu ? 'Z' : ''}`;
}

/** gpsd prints some inland/berthing dates without zero padding ("%u-%uT%u:%u"). */
function mdhmBare(month: number, day: number, hour: number, minute: number): string {
  return `${month}-${day}T${hour}:${minute}`;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;
const tenth = (v: number): number => Math.round(v) / 10;

function waypoints(bits: BitBuffer, base: number, count: number, scaled: boolean): Array<{ lon: number; lat: number }> {
  const out: Array<{ lon: number; lat: number }> = [];
  for (let i = 0; i < count; i++) {
    const a = base + 55 * i;
    const lon = bits.s(a, 28);
    const lat = bits.s(a + 28, 27);
    out.push(scaled ? { lon: lon / LATLON_DIV, lat: lat / LATLON_DIV } : { lon, lat });
  }
  return out;
}

/** Where IMO236 (DAC 1 FI 14) and IMO289 (FI 32) tidal windows differ: the position's order, widths and unit, and the current speed's width. */
interface TidalLayout {
  latFirst: boolean;
  latBits: number;
  lonBits: number;
  div: number;
  cspeedBits: number;
}

/** month, day, then as many windows as fit: position, from/to hour and minute, current direction and speed (0.1 kn). */
function tidalWindow(bits: BitBuffer, bitlen: number, m: AisMessage, l: TidalLayout, scaled: boolean): void {
  m.month = bits.u(88, 4);
  m.day = bits.u(92, 5);
  const size = l.latBits + l.lonBits + 5 + 6 + 5 + 6 + 9 + l.cspeedBits;
  const tidals: Array<Record<string, number>> = [];
  for (let a = 97; a + size <= bitlen; a += size) {
    const lat = bits.s(l.latFirst ? a : a + l.lonBits, l.latBits);
    const lon = bits.s(l.latFirst ? a + l.latBits : a, l.lonBits);
    const t = a + l.latBits + l.lonBits;
    const cspeed = bits.u(t + 31, l.cspeedBits);
    tidals.push({
      lon: scaled ? lon / l.div : lon,
      lat: scaled ? lat / l.div : lat,
      from_hour: bits.u(t, 5),
      from_min: bits.u(t + 5, 6),
      to_hour: bits.u(t + 11, 5),
      to_min: bits.u(t + 16, 6),
      cdir: bits.u(t + 22, 9),
      cspeed: scaled ? cspeed / 10 : cspeed,
    });
  }
  m.tidals = tidals;
}

function routeInfo(bits: BitBuffer, m: AisMessage, a: number, scaled: boolean): void {
  const rtype = bits.u(a + 13, 5);
  const waycount = bits.u(a + 56, 5);
  m.linkage = bits.u(a, 10);
  m.sender = bits.u(a + 10, 3);
  m.rtype = rtype;
  m.rtype_text = ROUTE_TYPE[rtype];
  m.start = mdhm(bits.u(a + 18, 4), bits.u(a + 22, 5), bits.u(a + 27, 5), bits.u(a + 32, 6));
  m.duration = bits.u(a + 38, 18);
  m.waypoints = waypoints(bits, a + 61, waycount, scaled);
}

/** Type 6 application payloads. Returns true when the payload was decoded into fields. */
export function decodeType6Application(bits: BitBuffer, m: AisMessage, dac: number, fid: number, scaled: boolean): boolean {
  const bitlen = bits.bitlen;
  if (dac === 200) {
    if ((fid === 21 && bitlen === 248) || (fid === 22 && bitlen === 232)) {
      m.country = bits.text(88, 2);
      m.locode = bits.text(100, 3);
      m.section = bits.text(118, 5);
      m.terminal = bits.text(148, 5);
      m.hectometre = bits.text(178, 5);
      m.eta = mdhmBare(bits.u(208, 4), bits.u(212, 5), bits.u(217, 5), bits.u(222, 6));
      if (fid === 21) {
        m.tugs = bits.u(228, 3);
        m.airdraught = bits.u(231, 12);
      } else {
        const status = bits.u(228, 2);
        m.status = status;
        m.status_text = RTA_STATUS[status];
      }
      return true;
    }
    if (fid === 55 && bitlen === 168) {
      m.crew = bits.u(88, 8);
      m.passengers = bits.u(96, 13);
      m.personnel = bits.u(109, 8);
      return true;
    }
    return false;
  }
  if (dac === 235 || dac === 250) {
    if (fid !== 10 || bitlen !== 136) return false;
    const anaInt = bits.u(88, 10);
    const anaExt1 = bits.u(98, 10);
    const anaExt2 = bits.u(108, 10);
    const racon = bits.u(118, 2);
    const light = bits.u(120, 2);
    m.off_pos = bits.u(131, 1) !== 0;
    m.alarm = bits.u(122, 1) !== 0;
    m.stat_ext = bits.u(123, 8);
    // Analogue readings are in units of 0.05 V; gpsd leaves a zero reading unscaled.
    m.ana_int = scaled && anaInt !== 0 ? round2(anaInt * 0.05) : anaInt;
    m.ana_ext1 = scaled && anaExt1 !== 0 ? round2(anaExt1 * 0.05) : anaExt1;
    m.ana_ext2 = scaled && anaExt2 !== 0 ? round2(anaExt2 * 0.05) : anaExt2;
    m.racon = racon;
    m.racon_text = RACON_STATUS[racon];
    m.light = light;
    m.light_text = LIGHT_STATUS[light];
    return true;
  }
  if (dac !== 1) return false;
  switch (fid) {
    case 12: {
      // IMO236 dangerous cargo indication
      m.lastport = bits.text(88, 5);
      m.departure = mdhm(bits.u(118, 4), bits.u(122, 5), bits.u(127, 5), bits.u(132, 6));
      m.nextport = bits.text(138, 5);
      m.eta = mdhm(bits.u(168, 4), bits.u(172, 5), bits.u(177, 5), bits.u(182, 6));
      m.dangerous = bits.text(188, 20);
      m.imdcat = bits.text(308, 4);
      m.unid = bits.u(332, 13);
      m.amount = bits.u(345, 10);
      m.unit = bits.u(355, 2);
      return true;
    }
    case 14: {
      // IMO236 tidal window: positions in 1/10000 minute (see docs/ais.md)
      tidalWindow(bits, bitlen, m, { latFirst: true, latBits: 27, lonBits: 28, div: LATLON_DIV, cspeedBits: 7 }, scaled);
      return true;
    }
    case 15:
      // IMO236 extended ship static data: air draught follows the 88-bit header (docs/ais.md)
      m.airdraught = bits.u(88, 11);
      return true;
    case 16:
      m.persons = bits.u(88, 13);
      return true;
    case 18: {
      // IMO289 clearance time to enter port
      const lon = bits.s(268, 25);
      const lat = bits.s(293, 24);
      m.linkage = bits.u(88, 10);
      m.arrival = mdhm(bits.u(98, 4), bits.u(102, 5), bits.u(107, 5), bits.u(112, 6));
      m.portname = bits.text(118, 20);
      m.destination = bits.text(238, 5);
      m.lon = scaled ? lon / LATLON3_DIV : lon;
      m.lat = scaled ? lat / LATLON3_DIV : lat;
      return true;
    }
    case 20: {
      // IMO289 berthing data
      const position = bits.u(115, 3);
      const depth = bits.u(107, 8);
      const lon = bits.s(311, 25);
      const lat = bits.s(336, 24);
      m.linkage = bits.u(88, 10);
      m.berth_length = bits.u(98, 9);
      m.position = position;
      m.position_text = BERTH_POSITION[position];
      m.arrival = mdhmBare(bits.u(118, 4), bits.u(122, 5), bits.u(127, 5), bits.u(132, 6));
      m.availability = bits.u(138, 1);
      const services = [
        'agent', 'fuel', 'chandler', 'stevedore', 'electrical', 'water', 'customs', 'cartage', 'crane', 'lift',
        'medical', 'navrepair', 'provisions', 'shiprepair', 'surveyor', 'steam', 'tugs', 'solidwaste', 'liquidwaste',
        'hazardouswaste', 'ballast', 'additional', 'regional1', 'regional2', 'future1', 'future2',
      ];
      for (let i = 0; i < services.length; i++) m[services[i]!] = bits.u(139 + 2 * i, 2);
      m.berth_name = bits.text(191, 20);
      m.berth_lon = scaled ? lon / LATLON3_DIV : lon;
      m.berth_lat = scaled ? lat / LATLON3_DIV : lat;
      m.berth_depth = scaled ? depth / 10 : depth;
      return true;
    }
    case 25: {
      // IMO289 dangerous cargo indication
      m.unit = bits.u(88, 2);
      m.amount = bits.u(90, 10);
      const cargos: Array<{ code: number; subtype: number }> = [];
      for (let a = 100; a < bitlen; a += 17) cargos.push({ code: bits.u(a, 4), subtype: bits.u(a + 4, 13) });
      m.cargos = cargos;
      return true;
    }
    case 28:
      routeInfo(bits, m, 88, scaled);
      return true;
    case 30:
      m.linkage = bits.u(88, 10);
      m.text = bits.endText(98, 153);
      return true;
    case 32: {
      // IMO289 tidal window: lon before lat, 1/1000 minute
      tidalWindow(bits, bitlen, m, { latFirst: false, latBits: 24, lonBits: 25, div: LATLON3_DIV, cspeedBits: 8 }, scaled);
      return true;
    }
    default:
      return false;
  }
}

/** Type 8 application payloads. Returns true when the payload was decoded into fields. */
export function decodeType8Application(bits: BitBuffer, m: AisMessage, dac: number, fid: number, scaled: boolean): boolean {
  const bitlen = bits.bitlen;
  if (dac === 1) {
    switch (fid) {
      case 11:
        meteoHydro11(bits, m, scaled);
        return true;
      case 13:
        m.reason = bits.text(56, 20);
        m.closefrom = bits.text(176, 20);
        m.closeto = bits.text(296, 20);
        m.radius = bits.u(416, 10);
        m.extunit = bits.u(426, 2);
        m.from = mdhm(bits.u(433, 4), bits.u(428, 5), bits.u(437, 5), bits.u(442, 6), false);
        m.to = mdhm(bits.u(453, 4), bits.u(448, 5), bits.u(457, 5), bits.u(462, 6), false);
        return true;
      case 15:
        m.airdraught = bits.u(56, 11);
        return true;
      case 16:
        // Persons on board directly after the 56-bit header (docs/ais.md)
        if (bitlen - 56 !== 72 && bitlen - 56 !== 136) return false;
        m.persons = bits.u(56, 13);
        return true;
      case 17: {
        // IMO289 VTS-generated/synthetic targets
        const targets: Array<Record<string, unknown>> = [];
        for (let a = 56; a + 122 <= bitlen; a += 122) {
          const idtype = bits.u(a, 2);
          const name = ID_TYPES[idtype]!;
          const lat = bits.s(a + 48, 24);
          const lon = bits.s(a + 72, 25);
          const t: Record<string, unknown> = { idtype, idtype_text: name };
          t[name] = idtype <= 1 ? String(bits.u(a + 2, 42)) : bits.text(a + 2, 7);
          t.lat = scaled ? lat / LATLON3_DIV : lat;
          t.lon = scaled ? lon / LATLON3_DIV : lon;
          t.course = bits.u(a + 97, 9);
          t.second = bits.u(a + 106, 6);
          t.speed = bits.u(a + 112, 10);
          targets.push(t);
        }
        m.targets = targets;
        return true;
      }
      case 19: {
        // IMO289 marine traffic signal
        const signal = bits.u(237, 5);
        const next = bits.u(253, 5);
        m.linkage = bits.u(56, 10);
        m.station = bits.text(66, 20);
        m.lon = bits.s(186, 25) / LATLON3_DIV;
        m.lat = bits.s(211, 24) / LATLON3_DIV;
        m.status = bits.u(235, 2);
        m.signal = signal;
        m.signal_text = signalText(signal);
        m.hour = bits.u(242, 5);
        m.minute = bits.u(247, 6);
        m.nextsignal = next;
        m.nextsignal_text = signalText(next);
        return true;
      }
      case 27:
        routeInfo(bits, m, 56, scaled);
        return true;
      case 29:
        m.linkage = bits.u(56, 10);
        m.text = bits.endText(66, 161);
        return true;
      case 31:
        meteoHydro31(bits, m, scaled);
        return true;
      default:
        return false;
    }
  }
  if (dac === 200) {
    switch (fid) {
      case 10: {
        // Inland ship static and voyage data (ERI)
        if (bitlen !== 168) return false;
        const hazard = bits.u(141, 3);
        // gpsd range-checks the hazard code to avoid false matches with other layouts.
        if (hazard > 5) return false;
        const shiptype = bits.u(127, 14);
        const loaded = bits.u(155, 2);
        m.vin = bits.text(56, 8);
        m.length = bits.u(104, 13);
        m.beam = bits.u(117, 10);
        m.shiptype = shiptype;
        m.shiptype_text = inlandShipTypeText(shiptype);
        m.hazard = hazard;
        m.hazard_text = hazardText(hazard);
        m.draught = bits.u(144, 11);
        m.loaded = loaded;
        m.loaded_text = loadedText(loaded);
        m.speed_q = bits.u(157, 1) !== 0;
        m.course_q = bits.u(158, 1) !== 0;
        m.heading_q = bits.u(159, 1) !== 0;
        return true;
      }
      case 23: {
        // EMMA weather warning; keys renamed where gpsd's would collide (docs/ais.md)
        if (bitlen !== 256) return false;
        const sy = bits.u(56, 8) + 2000;
        const ey = bits.u(73, 8) + 2000;
        m.start = `${sy}-${p2(bits.u(64, 4))}-${p2(bits.u(68, 5))}T${p2(bits.u(90, 5))}:${p2(bits.u(95, 6))}`;
        m.end = `${ey}-${p2(bits.u(81, 4))}-${p2(bits.u(85, 5))}T${p2(bits.u(101, 5))}:${p2(bits.u(106, 6))}`;
        const slon = bits.s(112, 28);
        const slat = bits.s(140, 27);
        const elon = bits.s(167, 28);
        const elat = bits.s(195, 27);
        m.start_lon = scaled ? slon / LATLON_DIV : slon;
        m.start_lat = scaled ? slat / LATLON_DIV : slat;
        m.end_lon = scaled ? elon / LATLON_DIV : elon;
        m.end_lat = scaled ? elat / LATLON_DIV : elat;
        const etype = bits.u(222, 4);
        const intensity = bits.u(244, 2);
        const wind = bits.u(246, 4);
        m.emma_type = etype;
        m.emma_type_text = emmaTypeText(etype);
        m.min = bits.s(226, 9);
        m.max = bits.s(235, 9);
        m.emma_class = intensity;
        m.emma_class_text = emmaClassText(intensity);
        m.wind = wind;
        m.wind_text = emmaWindText(wind);
        return true;
      }
      case 24: {
        if (bitlen !== 168) return false;
        m.country = bits.text(56, 2);
        const gauges: Array<{ id: number; level: number }> = [];
        for (let a = 68; a < bitlen; a += 25) gauges.push({ id: bits.u(a, 11), level: bits.s(a + 11, 14) });
        m.gauges = gauges;
        return true;
      }
      case 40: {
        if (bitlen !== 168) return false;
        const lon = bits.s(56, 28);
        const lat = bits.s(84, 27);
        const direction = bits.u(124, 3);
        const status = bits.u(127, 30);
        m.lon = scaled ? lon / LATLON_DIV : lon;
        m.lat = scaled ? lat / LATLON_DIV : lat;
        m.form = bits.u(111, 4);
        m.facing = bits.u(115, 9);
        m.direction = direction;
        m.direction_text = directionText(direction);
        m.status = status;
        m.status_text = signalStatusText(status);
        return true;
      }
      default:
        return false;
    }
  }
  return false;
}

/** IMO236 meteorological/hydrological data (DAC 1 FID 11), offsets as transmitted. */
function meteoHydro11(bits: BitBuffer, m: AisMessage, scaled: boolean): void {
  const lat = bits.s(56, 24);
  const lon = bits.s(80, 25);
  m.lat = scaled ? lat / LATLON3_DIV : lat;
  m.lon = scaled ? lon / LATLON3_DIV : lon;
  m.timestamp = `${p2(bits.u(105, 5))}T${p2(bits.u(110, 5))}:${p2(bits.u(115, 6))}Z`;
  m.wspeed = bits.u(121, 7);
  m.wgust = bits.u(128, 7);
  m.wdir = bits.u(135, 9);
  m.wgustdir = bits.u(144, 9);
  m.humidity = bits.u(164, 7);
  const airtemp = bits.u(153, 11);
  const dewpoint = bits.u(171, 10);
  const pressure = bits.u(181, 9);
  const ptend = bits.u(190, 2);
  const visibility = bits.u(192, 8);
  const waterlevel = bits.u(200, 9);
  const leveltrend = bits.u(209, 2);
  const watertemp = bits.u(322, 10);
  const preciptype = bits.u(332, 3);
  const salinity = bits.u(335, 9);
  const ice = bits.u(344, 2);
  m.airtemp = scaled ? tenth(airtemp - 600) : airtemp;
  m.dewpoint = scaled ? tenth(dewpoint - 200) : dewpoint;
  m.pressure = scaled ? pressure + 800 : pressure;
  m.pressuretend = scaled ? TRENDS[ptend] : ptend;
  m.visibility = scaled ? visibility / 10 : visibility;
  m.waterlevel = scaled ? tenth(waterlevel - 100) : waterlevel;
  m.leveltrend = scaled ? TRENDS[leveltrend] : leveltrend;
  const cs = (v: number): number => (scaled ? v / 10 : v);
  m.cspeed = cs(bits.u(211, 8));
  m.cdir = bits.u(219, 9);
  m.cspeed2 = cs(bits.u(228, 8));
  m.cdir2 = bits.u(236, 9);
  m.cdepth2 = bits.u(245, 5);
  m.cspeed3 = cs(bits.u(250, 8));
  m.cdir3 = bits.u(258, 9);
  m.cdepth3 = bits.u(267, 5);
  m.waveheight = cs(bits.u(272, 8));
  m.waveperiod = bits.u(280, 6);
  m.wavedir = bits.u(286, 9);
  m.swellheight = cs(bits.u(295, 8));
  m.swellperiod = bits.u(303, 6);
  m.swelldir = bits.u(309, 9);
  m.seastate = bits.u(318, 4);
  m.watertemp = scaled ? tenth(watertemp - 100) : watertemp;
  m.preciptype = preciptype;
  m.preciptype_text = PRECIP_TYPES[preciptype];
  m.salinity = cs(salinity);
  m.ice = ice;
  m.ice_text = ICE[ice];
}

/** IMO289 meteorological/hydrological data (DAC 1 FID 31). */
function meteoHydro31(bits: BitBuffer, m: AisMessage, scaled: boolean): void {
  const lon = bits.s(56, 25);
  const lat = bits.s(81, 24);
  m.lat = scaled ? lat / LATLON3_DIV : lat;
  m.lon = scaled ? lon / LATLON3_DIV : lon;
  m.accuracy = bits.u(105, 1) !== 0;
  m.timestamp = `${p2(bits.u(106, 5))}T${p2(bits.u(111, 5))}:${p2(bits.u(116, 6))}Z`;
  m.wspeed = bits.u(122, 7);
  m.wgust = bits.u(129, 7);
  m.wdir = bits.u(136, 9);
  m.wgustdir = bits.u(145, 9);
  m.humidity = bits.u(165, 7);
  const airtemp = bits.s(154, 11);
  const dewpoint = bits.s(172, 10);
  const pressure = bits.u(182, 9);
  const ptend = bits.u(191, 2);
  const visibility = bits.u(194, 7);
  const waterlevel = bits.u(201, 12);
  const leveltrend = bits.u(213, 2);
  const watertemp = bits.s(326, 10);
  const preciptype = bits.u(336, 3);
  const salinity = bits.u(339, 9);
  const ice = bits.u(348, 2);
  m.airtemp = scaled ? airtemp / 10 : airtemp;
  m.dewpoint = scaled ? dewpoint / 10 : dewpoint;
  m.pressure = scaled ? pressure + 799 : pressure;
  m.pressuretend = scaled ? TRENDS[ptend] : ptend;
  m.visgreater = bits.u(193, 1) !== 0;
  m.visibility = scaled ? visibility / 10 : visibility;
  m.waterlevel = scaled ? (waterlevel - 1000) / 100 : waterlevel;
  m.leveltrend = scaled ? TRENDS[leveltrend] : leveltrend;
  const cs = (v: number): number => (scaled ? v / 10 : v);
  m.cspeed = cs(bits.u(215, 8));
  m.cdir = bits.u(223, 9);
  m.cspeed2 = cs(bits.u(232, 8));
  m.cdir2 = bits.u(240, 9);
  m.cdepth2 = bits.u(249, 5);
  m.cspeed3 = cs(bits.u(254, 8));
  m.cdir3 = bits.u(262, 9);
  m.cdepth3 = bits.u(271, 5);
  m.waveheight = cs(bits.u(276, 8));
  m.waveperiod = bits.u(284, 6);
  m.wavedir = bits.u(290, 9);
  m.swellheight = cs(bits.u(299, 8));
  m.swellperiod = bits.u(307, 6);
  m.swelldir = bits.u(313, 9);
  m.seastate = bits.u(322, 4);
  m.watertemp = scaled ? watertemp / 10 : watertemp;
  m.preciptype = scaled ? PRECIP_TYPES[preciptype] : preciptype;
  m.salinity = cs(salinity);
  m.ice = scaled ? ICE[ice] : ice;
}
