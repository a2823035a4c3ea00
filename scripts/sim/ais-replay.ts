/**
 * AIS replay simulator: serves a recorded NMEA file (or the synthetic port
 * scenario) the way a shore receiver would, over TCP on loopback (every
 * connected client gets the same live stream) and/or as UDP datagrams, paced
 * by the recorded times (tag block `c:`, USCG trailer, leading epoch) or sped
 * up, looped for the demo.
 *
 * With `retime` (default on), tag-block times are rewritten so the stream
 * runs on today's clock and never ahead of it: berth arrivals and departures
 * are in the past or present, never in the future. At `speed` ≤ 1 the first
 * loop starts now. Sped up, a loop is placed in the past so that its last
 * line is due exactly when it is sent (the data clock runs faster than the
 * wall and catches up with it at the end). Each further loop carries on
 * after the last, so a loop never repeats a (vessel, time) that the store's
 * deterministic ids would fold away, and a time that would still lie ahead
 * of the wall clock is held at the wall clock. Unpaced (`speed` 0) the
 * stream keeps its recorded spacing from now on. Lines without a tag block
 * are sent unchanged.
 *
 *   node --import tsx scripts/sim/ais-replay.ts --scenario --tcp 10110 --loop --speed 10
 *   node --import tsx scripts/sim/ais-replay.ts --file test/fixtures/ais/libais/test.aivdm --udp 127.0.0.1:10111
 */
import { readFileSync } from 'node:fs';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { checksumFooter } from '../../pipeline/nmea/index.js';
import { lineTime } from '../../pipeline/feeds/index.js';
import { portScenario } from './ais-scenario.js';

export interface AisReplayOptions {
  lines: readonly string[];
  /** Listen for TCP clients here (0 = any free port); omitted: no TCP. */
  tcpPort?: number;
  tcpHost?: string;
  /** Send each line as a UDP datagram here. */
  udp?: { host: string; port: number };
  /** 1 = real time, 10 = ten times faster, 0 = as fast as the clients take it. */
  speed?: number;
  loop?: boolean;
  /** Rewrite tag-block times onto today's clock (default true). */
  retime?: boolean;
  /** TCP only: hold lines until the first client connects (default true; a test or demo should not lose the start). */
  waitForClient?: boolean;
  /** Called when a pass over the lines ends. */
  onPass?: (pass: number) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rewrite the `c:` field of a leading tag block to `seconds` (and its checksum). */
export function retimeLine(line: string, seconds: number): string {
  if (line.charCodeAt(0) !== 92) return line;
  const end = line.indexOf('\\', 1);
  if (end < 0) return line;
  const block = line.slice(1, end);
  const star = block.lastIndexOf('*');
  const body = star >= 0 ? block.slice(0, star) : block;
  if (!/(^|,)c:\d+/.test(body)) return line;
  const fresh = body.replace(/(^|,)c:\d+/, `$1c:${Math.floor(seconds)}`);
  return `\\${fresh}${checksumFooter(fresh)}\\${line.slice(end + 1)}`;
}

export class AisReplay {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();
  private udp: UdpSocket | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private clientWaiters: Array<() => void> = [];
  readonly stats = { sent: 0, passes: 0, connections: 0, dropped_clients: 0 };

  constructor(private readonly options: AisReplayOptions) {}

  /** The TCP port listened on (after start). */
  port = 0;

  async start(): Promise<void> {
    const o = this.options;
    if (o.tcpPort !== undefined) {
      this.server = createServer((socket) => {
        this.stats.connections++;
        socket.setNoDelay(true);
        socket.on('error', () => {});
        socket.on('close', () => this.clients.delete(socket));
        this.clients.add(socket);
        const waiters = this.clientWaiters;
        this.clientWaiters = [];
        for (const w of waiters) w();
      });
      await new Promise<void>((resolve, reject) => {
        this.server!.once('error', reject);
        this.server!.listen(o.tcpPort, o.tcpHost ?? '127.0.0.1', () => resolve());
      });
      const addr = this.server.address();
      this.port = typeof addr === 'object' && addr ? addr.port : 0;
    }
    if (o.udp) this.udp = createSocket('udp4');
    this.running = this.run();
  }

  /** Cut every connected client off (tests a receiver's reconnect). */
  dropClients(): void {
    for (const c of this.clients) {
      this.stats.dropped_clients++;
      c.destroy();
    }
    this.clients.clear();
  }

  /** Resolves when the replay has sent everything (never, with `loop`, until stop). */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    for (const w of this.clientWaiters) w();
    await this.running?.catch(() => {});
    for (const c of this.clients) c.end();
    this.clients.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.udp?.close();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => (clearTimeout(t), resolve());
    });
  }

  private async run(): Promise<void> {
    const o = this.options;
    const speed = o.speed ?? 1;
    const retime = o.retime ?? true;
    if (this.server && (o.waitForClient ?? true) && this.clients.size === 0) {
      await new Promise<void>((r) => this.clientWaiters.push(r));
    }
    const times = o.lines.map(lineTime).filter((t): t is number => t !== null);
    const firstRecorded = times[0] ?? null;
    // One pass in data time (ms): recorded times rise through the file.
    const passMs = times.length ? Math.max(...times) - firstRecorded! : 0;
    // The data clock of the retimed stream runs `speed` times faster than the wall.
    let lastRetimed = -Infinity;
    do {
      const wallStart = Date.now();
      // Sped up, the pass ends on the wall clock: it starts passMs - passMs/speed in the past.
      const anchored = speed > 1 ? wallStart + passMs / speed - passMs : wallStart;
      const loopBase = Math.max(anchored, lastRetimed + 1000);
      for (const raw of o.lines) {
        if (this.stopped) return;
        const recorded = lineTime(raw);
        let line = raw;
        if (recorded !== null && firstRecorded !== null) {
          const offset = recorded - firstRecorded;
          if (speed > 0) {
            const due = wallStart + offset / speed;
            const wait = due - Date.now();
            if (wait > 1) await this.sleep(wait);
            if (this.stopped) return;
          }
          if (retime) {
            // Never ahead of the wall clock (a later loop that had to carry on after the last).
            // Unpaced (speed 0: tests, benchmarks) the stream cannot follow any clock; it keeps its spacing.
            lastRetimed = speed > 0 ? Math.max(lastRetimed, Math.min(loopBase + offset, Date.now())) : loopBase + offset;
            line = retimeLine(raw, lastRetimed / 1000);
          }
        }
        await this.send(line);
      }
      this.stats.passes++;
      o.onPass?.(this.stats.passes);
    } while (o.loop && !this.stopped);
  }

  private async send(line: string): Promise<void> {
    const data = `${line}\r\n`;
    this.stats.sent++;
    if (this.udp && this.options.udp) {
      const { host, port } = this.options.udp;
      await new Promise<void>((r) => this.udp!.send(data, port, host, () => r()));
      // UDP has no backpressure: unpaced, a burst overflows the receiver's socket buffer
      // and datagrams are lost. As fast as possible means about 16k lines/s here.
      if ((this.options.speed ?? 1) === 0 && this.stats.sent % 16 === 0) await sleep(1);
    }
    let slow: Socket | null = null;
    for (const c of this.clients) if (!c.write(data)) slow = c;
    // As fast as possible: wait for a slow client rather than buffering without bound.
    if (slow && (this.options.speed ?? 1) === 0) await new Promise<void>((r) => (slow!.once('drain', r), slow!.once('close', r)));
    else if (this.stats.sent % 2000 === 0) await sleep(0);
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = arg('file');
  const lines = file
    ? readFileSync(file, 'latin1').split(/\r?\n/).filter((l) => l.length > 0)
    : process.argv.includes('--scenario')
      ? portScenario({ badLines: process.argv.includes('--bad-lines') }).lines
      : null;
  if (!lines) {
    process.stderr.write('usage: ais-replay.ts (--file FILE | --scenario [--bad-lines]) [--tcp PORT] [--udp HOST:PORT] [--speed N] [--loop] [--no-retime]\n');
    process.exit(2);
  }
  const tcp = arg('tcp');
  const udp = arg('udp');
  const [udpHost, udpPort] = udp ? udp.split(':') : [];
  const replay = new AisReplay({
    lines,
    ...(tcp !== undefined ? { tcpPort: Number(tcp) } : {}),
    ...(udp ? { udp: { host: udpHost ?? '127.0.0.1', port: Number(udpPort) } } : {}),
    speed: Number(arg('speed') ?? '1'),
    loop: process.argv.includes('--loop'),
    retime: !process.argv.includes('--no-retime'),
    waitForClient: !process.argv.includes('--no-wait'),
    onPass: (n) => process.stderr.write(`pass ${n} done (${lines.length} lines)\n`),
  });
  await replay.start();
  process.stderr.write(`AIS replay: ${lines.length} lines${tcp !== undefined ? `, TCP 127.0.0.1:${replay.port}` : ''}${udp ? `, UDP ${udp}` : ''}\n`);
  const stop = () => void replay.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await replay.done;
  await replay.stop();
}
