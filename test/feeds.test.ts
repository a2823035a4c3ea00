import { createServer, type Server, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLineFeed, LineSplitter, TcpLineFeed, UdpLineFeed, lineTime, type LineMeta } from '../pipeline/feeds/index.js';
import { silentLogger } from '../pipeline/log/index.js';

const logger = silentLogger();
const A = '!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23';
const B = '!AIVDM,1,1,,B,133sVfPP00PD>hRMDH@jNOvN20S8,0*7F';

describe('LineSplitter', () => {
  it('cuts LF and CRLF lines across chunk boundaries', () => {
    const s = new LineSplitter();
    expect(s.push('!AIVDM,1,1,,A,13HO')).toEqual([]);
    expect(s.push('I:0P0\r\n!AB\n\n!C')).toEqual(['!AIVDM,1,1,,A,13HOI:0P0', '!AB']);
    expect(s.end()).toEqual(['!C']);
  });
  it('drops an endless line instead of buffering it, and resumes after the next newline', () => {
    const sizes: number[] = [];
    const s = new LineSplitter({ max_bytes: 100, onOversize: (n) => sizes.push(n) });
    expect(s.push('x'.repeat(150))).toEqual([]);
    expect(s.push('y'.repeat(50) + '\n' + A + '\n')).toEqual([A]);
    expect(sizes).toEqual([150]);
  });
});

describe('lineTime', () => {
  it('reads tag block c: in seconds and milliseconds', () => {
    expect(lineTime('\\s:rORBCOMM000,c:1241544035*4A\\' + A)).toBe(1241544035000);
    expect(lineTime('\\c:1577923200123,s:x*00\\' + A)).toBe(1577923200123);
  });
  it('reads a USCG trailing epoch and a leading epoch', () => {
    expect(lineTime(`${A},s22,d-105,T28.81,x9,r003669945,1241544035`)).toBe(1241544035000);
    expect(lineTime(`1241544035.5 ${A}`)).toBe(1241544035500);
    expect(lineTime(A)).toBeNull();
  });
});

describe('TcpLineFeed', () => {
  let server: Server | null = null;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('receives lines split across writes and reconnects after the server drops it', async () => {
    const sockets: Socket[] = [];
    server = createServer((s) => {
      sockets.push(s);
      if (sockets.length === 1) {
        s.write(A.slice(0, 10));
        setTimeout(() => s.write(A.slice(10) + '\r\n'), 20);
        setTimeout(() => s.destroy(), 60);
      } else {
        s.write(B + '\n');
      }
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const feed = new TcpLineFeed({ id: 'berth-receiver', host: '127.0.0.1', port, logger, backoff: { baseMs: 20, capMs: 50 } });
    const got: Array<[string, LineMeta]> = [];
    const both = new Promise<void>((resolve) =>
      feed.start((line, meta) => {
        got.push([line, meta]);
        if (got.length === 2) resolve();
      }),
    );
    await both;
    await feed.stop();
    for (const s of sockets) s.destroy();
    expect(got.map(([l]) => l)).toEqual([A, B]);
    expect(got[0]![1].feed).toBe('berth-receiver');
    expect(feed.stats.connects).toBe(2);
    expect(feed.stats.disconnects).toBeGreaterThanOrEqual(1);
  });

  it('keeps retrying a refused port without throwing, and stops cleanly', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const feed = new TcpLineFeed({ id: 'down', host: '127.0.0.1', port, logger, backoff: { baseMs: 10, capMs: 20 } });
    feed.start(() => undefined);
    await new Promise((r) => setTimeout(r, 150));
    await feed.stop();
    expect(feed.stats.connects).toBe(0);
    expect(feed.stats.last_error).toMatch(/ECONNREFUSED/);
  });

  it('pauses the socket while an async handler works (backpressure), keeping order', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `${A}#${i}`);
    server = createServer((s) => s.end(lines.join('\n') + '\n'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const feed = new TcpLineFeed({ id: 'slow', host: '127.0.0.1', port, logger, backoff: { baseMs: 5000 } });
    const got: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await new Promise<void>((resolve) =>
      feed.start(async (line) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        got.push(line);
        inFlight--;
        if (got.length === lines.length) resolve();
      }),
    );
    await feed.stop();
    expect(got).toEqual(lines);
    expect(maxInFlight).toBe(1);
  });
});

describe('UdpLineFeed', () => {
  it('splits datagrams holding several lines', async () => {
    const feed = new UdpLineFeed({ id: 'udp', port: 0, host: '127.0.0.1', logger, station: 'berth-7' });
    const got: Array<[string, LineMeta]> = [];
    const done = new Promise<void>((resolve) =>
      feed.start((line, meta) => {
        got.push([line, meta]);
        if (got.length === 3) resolve();
      }),
    );
    const port = await feed.listening();
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.send(`${A}\r\n${B}\r\n`, port, '127.0.0.1', () => r()));
    await new Promise<void>((r) => client.send(A, port, '127.0.0.1', () => r()));
    await done;
    client.close();
    await feed.stop();
    expect(got.map(([l]) => l)).toEqual([A, B, A]);
    expect(got[0]![1].station).toBe('berth-7');
  });
});

describe('FileLineFeed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portwatch-feed-'));

  it('replays fast with line numbers and recorded times', async () => {
    const path = join(dir, 'fast.nmea');
    writeFileSync(path, `\\c:1241544035*00\\${A}\n${B}\r\n\n${A}`);
    const feed = new FileLineFeed({ id: 'file', path, logger });
    const got: Array<[string, LineMeta]> = [];
    feed.start((line, meta) => void got.push([line, meta]));
    await feed.done;
    expect(got.map(([, m]) => m.line_number)).toEqual([1, 2, 3]);
    expect(got[0]![1].received.toISOString()).toBe('2009-05-05T17:20:35.000Z');
    expect(feed.stats.lines).toBe(3);
  });

  it('paces a realtime replay by the recorded timestamps', async () => {
    const path = join(dir, 'realtime.nmea');
    // Three lines recorded one second apart, replayed at 10×: about 200 ms in all.
    writeFileSync(path, [0, 1, 2].map((s) => `\\c:${1241544035 + s}*00\\${A}`).join('\n') + '\n');
    const feed = new FileLineFeed({ id: 'file', path, logger, mode: 'realtime', speed: 10 });
    const at: number[] = [];
    const t0 = Date.now();
    feed.start(() => void at.push(Date.now() - t0));
    await feed.done;
    expect(at).toHaveLength(3);
    expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(180);
  });

  it('reports a missing file without throwing', async () => {
    const feed = new FileLineFeed({ id: 'file', path: join(dir, 'nope.nmea'), logger });
    feed.start(() => undefined);
    await feed.done;
    expect(feed.stats.last_error).toMatch(/ENOENT/);
  });
});
