import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRtspServer, type RtspServer } from '../scripts/sim/rtsp-sim.js';
import { RtspClient, RtspError, RtspStreamParser, type RtspMessage, type RtspVideoTrack } from '../pipeline/video/rtsp-client.js';
import { chooseChallenge, digestResponse, isStale, parseChallenges, RtspAuthenticator } from '../pipeline/video/rtsp-auth.js';
import { decodeParameterSets, parseSdp, resolveControl, videoTrack } from '../pipeline/video/sdp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A client whose packets are copied as they come (the client hands out views). */
function receiver(url: string, o: { timeoutMs?: number; keepAliveMs?: number; readEveryMs?: number } = {}) {
  const client = new RtspClient({ url, ...o });
  const packets: Buffer[] = [];
  const closes: Array<RtspError | null> = [];
  client.onRtp = (p) => packets.push(Buffer.from(p));
  client.onClose = (err) => closes.push(err);
  return { client, packets, closes };
}

/** The RTP payload: after 12 header bytes, the CSRCs and the header extension if any. */
function rtpPayload(packet: Buffer): Buffer {
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  return packet.subarray(offset);
}

function carriesIdr(packet: Buffer): boolean {
  const p = rtpPayload(packet);
  const type = p[0]! & 0x1f;
  return type === 5 || (type === 28 && (p[1]! & 0x1f) === 5);
}

async function startFails(url: string, o: { timeoutMs?: number } = {}): Promise<RtspError> {
  const client = new RtspClient({ url, ...o });
  const err = await client.start().then(
    () => null,
    (e: unknown) => e,
  );
  await client.close();
  expect(err).toBeInstanceOf(RtspError);
  return err as RtspError;
}

// --- A scripted RTSP server, for what the simulator cannot be made to do ---

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
}

interface ScriptedCamera {
  port: number;
  url(path: string): string;
  requests: Request[];
  /** What the client wrote back to the server's own requests. */
  answers: string[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function scriptedCamera(reply: (req: Request, socket: Socket) => void | Promise<void>): Promise<ScriptedCamera> {
  const requests: Request[] = [];
  const answers: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      for (let end = text.indexOf('\r\n\r\n'); end >= 0; end = text.indexOf('\r\n\r\n')) {
        const [first = '', ...lines] = text.slice(0, end).split('\r\n');
        text = text.slice(end + 4);
        if (first.startsWith('RTSP/1.0')) {
          answers.push([first, ...lines].join('\n'));
          continue;
        }
        const [method = '', url = ''] = first.split(' ');
        const headers: Record<string, string> = {};
        for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        const req = { method, url, headers };
        requests.push(req);
        void reply(req, socket);
      }
    });
  });
  const port = await listen(server);
  return {
    port,
    url: (path) => `rtsp://127.0.0.1:${port}${path}`,
    requests,
    answers,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function response(status: string, cseq: string | undefined, headers: string[] = [], body = ''): string {
  const head = [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...headers];
  if (body) head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

function interleaved(channel: number, payload: Buffer): Buffer {
  const head = Buffer.from([0x24, channel, 0, 0]);
  head.writeUInt16BE(payload.length, 2);
  return Buffer.concat([head, payload]);
}

function fakeRtp(seq: number, size: number): Buffer {
  const b = Buffer.alloc(12 + size, seq & 0xff);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  return b;
}

const SDP_AUDIO_FIRST = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=cam',
  't=0 0',
  'm=audio 0 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'a=control:trackID=0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=4d4016;sprop-parameter-sets=Z01AFtkAoD2hAAADAAEAAAMAFA8WLkg=,aOvAlLI=',
  'a=control:trackID=1',
  '',
].join('\r\n');

// --- Against the project's GStreamer RTSP simulator ---

const USER = 'viewer';
const PASSWORD = 'p@ss:w0rd';
/** The simulator's own url() puts the credentials in raw; these build the URLs a camera config would hold. */
const bare = (server: { port: number }, path: string) => `rtsp://127.0.0.1:${server.port}${path}`;
const withCredentials = (server: { port: number }, path: string, user = USER, password = PASSWORD) =>
  bare(server, path).replace('rtsp://', `rtsp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`);

let open: RtspServer;
let basic: RtspServer;
let digest: RtspServer;
beforeAll(async () => {
  [open, basic, digest] = await Promise.all([
    startRtspServer({ mounts: { '/cam': 'vtest' } }),
    startRtspServer({ mounts: { '/cam': 'vtest' }, user: USER, password: PASSWORD }),
    startRtspServer({ mounts: { '/cam': 'vtest' }, user: USER, password: PASSWORD, digest: true }),
  ]);
  // Each server's first session builds its media pipeline (decode and encode the clip), which on
  // a loaded 2-core machine took over 3 s once: played once here, so the tests time a warm server.
  await Promise.all(
    [open.url('/cam'), withCredentials(basic, '/cam'), withCredentials(digest, '/cam')].map(async (url) => {
      const { client, packets } = receiver(url);
      await client.start();
      await waitFor('a first packet', () => packets.length > 0, 30_000);
      await client.close();
    }),
  );
}, 60_000);
afterAll(async () => {
  await Promise.all([open?.stop(), basic?.stop(), digest?.stop()]);
});

describe('RtspClient against the GStreamer simulator', () => {
  it('plays H.264: SPS and PPS from the SDP, RTP on the track payload type, an IDR within 3 s; close() stops it', async () => {
    const { client, packets, closes } = receiver(open.url('/cam'), { keepAliveMs: 200 });
    const track: RtspVideoTrack = await client.start();
    expect(track.codec).toBe('H264');
    expect(track.clockRate).toBe(90_000);
    expect(track.control.startsWith(`${open.url('/cam')}/`)).toBe(true);
    const nalTypes = track.parameterSets.map((nal) => nal[0]! & 0x1f);
    expect(nalTypes).toContain(7);
    expect(nalTypes).toContain(8);

    await waitFor('an IDR packet', () => packets.some(carriesIdr), 3000);
    for (const p of packets) {
      expect(p[0]! >> 6).toBe(2);
      expect(p[1]! & 0x7f).toBe(track.payloadType);
    }
    // Keep-alives (GET_PARAMETER, which the simulator lists) went out and the stream went on.
    await waitFor('two keep-alives', () => client.stats().keepAlives >= 2, 2000);
    const before = packets.length;
    await waitFor('more packets after the keep-alives', () => packets.length > before, 2000);
    const stats = client.stats();
    expect(stats.rtpPackets).toBeGreaterThanOrEqual(packets.length);
    expect(stats.bytes).toBeGreaterThan(packets.reduce((n, p) => n + p.length, 0));

    await client.close();
    const after = packets.length;
    await sleep(300);
    expect(packets.length).toBe(after);
    expect(closes).toEqual([null]);
    await client.close(); // idempotent: no second onClose
    expect(closes).toEqual([null]);
  });

  it('readEveryMs reads many packets at a time once playing, losing none', async () => {
    const eager = receiver(open.url('/cam'));
    const batched = receiver(open.url('/cam'), { readEveryMs: 250 });
    await Promise.all([eager.client.start(), batched.client.start()]);
    const t0 = Date.now();
    await sleep(3000);
    const [e, b] = [eager.client.stats(), batched.client.stats()];
    const s = (Date.now() - t0) / 1000;
    await Promise.all([eager.client.close(), batched.client.close()]);
    // Nothing lost while held in the kernel: every RTP sequence number follows the one before.
    expect(b.rtpPackets).toBeGreaterThan(60);
    expect(batched.packets.length).toBe(b.rtpPackets);
    const gaps = batched.packets.slice(1).filter((p, i) => p.readUInt16BE(2) !== ((batched.packets[i]!.readUInt16BE(2) + 1) & 0xffff));
    expect(gaps).toHaveLength(0);
    // Read as they come: about a read per packet. Batched: ~4 reads a second (+ the start-up exchange).
    expect(e.reads).toBeGreaterThan(0.5 * e.rtpPackets);
    expect(b.reads).toBeLessThanOrEqual(s * 4 + 8);
    expect(batched.packets.filter(carriesIdr).length).toBeGreaterThanOrEqual(2);
  });

  it('close() called from inside onRtp delivers no further packet, not even the rest of that TCP chunk', async () => {
    const client = new RtspClient({ url: open.url('/cam') });
    let delivered = 0;
    let atClose = -1;
    let closing: Promise<void> | null = null;
    client.onRtp = (p) => {
      delivered++;
      // The first fragment of an IDR: the rest of that picture is in the same burst of packets.
      if (!closing && carriesIdr(p)) {
        atClose = delivered;
        closing = client.close();
      }
    };
    await client.start();
    await waitFor('an IDR packet', () => closing !== null, 3000);
    await closing;
    await sleep(200);
    expect(delivered).toBe(atClose);
  });

  it('Basic auth: right credentials (percent-decoded) play; wrong or missing ones are unauthorized, with no secret in the error', async () => {
    const { client, packets } = receiver(withCredentials(basic, '/cam'));
    const track = await client.start();
    expect(track.codec).toBe('H264');
    await waitFor('packets', () => packets.length > 0, 3000);
    await client.close();

    const wrong = await startFails(withCredentials(basic, '/cam', USER, 'hunter2'));
    expect(wrong.reason).toBe('unauthorized');
    expect(wrong.status).toBe(401);
    for (const text of [wrong.message, String(wrong)]) {
      expect(text).not.toContain(USER);
      expect(text).not.toContain('hunter2');
      expect(text).toContain('401');
    }
    expect(wrong.message).toContain('wrong user or password');

    const none = await startFails(bare(basic, '/cam'));
    expect(none.reason).toBe('unauthorized');
    expect(none.message).toContain('has none');
  });

  it('Digest auth: right credentials play, wrong ones are unauthorized without leaking them', async () => {
    const { client, packets } = receiver(withCredentials(digest, '/cam'));
    expect((await client.start()).codec).toBe('H264');
    await waitFor('packets', () => packets.length > 0, 3000);
    await client.close();

    const wrong = await startFails(withCredentials(digest, '/cam', 'intruder', 'letmein'));
    expect(wrong.reason).toBe('unauthorized');
    for (const text of [wrong.message, String(wrong)]) {
      expect(text).not.toContain('intruder');
      expect(text).not.toContain('letmein');
    }
  });

  it('an unknown path is not_found', async () => {
    const err = await startFails(open.url('/no-such-camera'));
    expect(err.reason).toBe('not_found');
    expect(err.status).toBe(404);
  });

  it('a port nobody listens on is refused', async () => {
    const port = await freePort();
    const err = await startFails(`rtsp://127.0.0.1:${port}/cam`);
    expect(err.reason).toBe('refused');
  });

  it('a server that accepts and never answers is a timeout after timeoutMs', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    const port = await listen(silent);
    try {
      const t0 = Date.now();
      const err = await startFails(`rtsp://127.0.0.1:${port}/cam`, { timeoutMs: 500 });
      const took = Date.now() - t0;
      expect(err.reason).toBe('timeout');
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(1000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('the server going away while playing ends the session through onClose, without a throw', async () => {
    const doomed = await startRtspServer({ mounts: { '/cam': 'vtest' } });
    const { client, packets, closes } = receiver(doomed.url('/cam'), { timeoutMs: 2000 });
    try {
      await client.start();
      await waitFor('packets', () => packets.length > 0, 3000);
    } finally {
      await doomed.stop();
    }
    await waitFor('onClose', () => closes.length > 0, 3000);
    expect(closes).toHaveLength(1);
    expect(closes[0]).toBeInstanceOf(RtspError);
    expect(['ended', 'unreachable', 'timeout']).toContain(closes[0]!.reason);
    await client.close();
    expect(closes).toHaveLength(1);
  });

  it('follows a redirect to another server on the same host, taking the credentials along', async () => {
    const redirector = await scriptedCamera((req, s) => {
      if (req.method === 'OPTIONS') s.write(response('200 OK', req.headers.cseq, ['Public: OPTIONS, DESCRIBE']));
      else s.write(response('302 Moved Temporarily', req.headers.cseq, [`Location: ${bare(basic, '/cam')}`]));
    });
    try {
      const { client, packets } = receiver(withCredentials(redirector, '/old'));
      const track = await client.start();
      expect(track.control.startsWith(bare(basic, '/cam/'))).toBe(true);
      await waitFor('packets', () => packets.length > 0, 3000);
      await client.close();
      expect(redirector.requests.map((r) => r.method)).toEqual(['OPTIONS', 'DESCRIBE']);
      // Nothing was sent to the redirector with credentials: it never asked.
      expect(redirector.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    } finally {
      await redirector.close();
    }
  });
});

// --- Against scripted servers: what GStreamer does not do ---

/** Checks a Digest Authorization header the way a camera would (RFC 2617, qop=auth), independently of the client's code. */
function digestOk(req: Request, user: string, password: string, realm: string, nonce: string): { ok: boolean; nc: string } {
  const fields: Record<string, string> = {};
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Digest ')) return { ok: false, nc: '' };
  for (const m of header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) fields[m[1]!] = m[2] ?? m[3] ?? '';
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${req.method}:${fields.uri}`);
  const expected = md5(`${ha1}:${nonce}:${fields.nc}:${fields.cnonce}:auth:${ha2}`);
  const ok =
    fields.username === user && fields.nonce === nonce && fields.uri === req.url && fields.qop === 'auth' && fields.opaque === 'op' && fields.response === expected;
  return { ok, nc: fields.nc ?? '' };
}

describe('RtspClient against scripted servers', () => {
  it('Digest with qop=auth and a nonce gone stale mid-exchange, audio listed first, server-chosen channels, a server request mid-stream, OPTIONS keep-alives, TEARDOWN', async () => {
    let nonce = 'n1';
    let staleSent = false;
    const checks: Array<{ method: string; ok: boolean; nc: string; nonce: string }> = [];
    const rtpSent = [fakeRtp(1, 20), fakeRtp(2, 1400), fakeRtp(3, 0), fakeRtp(4, 300), fakeRtp(5, 5)];
    const challenge = (stale: boolean) => [
      `WWW-Authenticate: Digest realm="cam", nonce="${nonce}", qop="auth", opaque="op", algorithm=MD5${stale ? ', stale=TRUE' : ''}`,
      'WWW-Authenticate: Basic realm="cam"',
    ];
    const cam = await scriptedCamera(async (req, s) => {
      const cseq = req.headers.cseq;
      if (req.method === 'OPTIONS' && !req.headers.session) {
        // Split across TCP chunks; GET_PARAMETER not offered, so keep-alives must be OPTIONS.
        const text = response('200 OK', cseq, ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN']);
        s.write(text.slice(0, 5));
        await sleep(15);
        s.write(text.slice(5, 30));
        await sleep(15);
        s.write(text.slice(30));
        return;
      }
      if (!req.headers.authorization) {
        s.write(response('401 Unauthorized', cseq, challenge(false)));
        return;
      }
      const check = digestOk(req, 'admin', 's3cret', 'cam', nonce);
      checks.push({ method: req.method, nonce, ...check });
      if (!staleSent && check.ok) {
        // Right answer, but to a nonce the camera has just retired: the client must retry, not give up.
        staleSent = true;
        nonce = 'n2';
        s.write(response('401 Unauthorized', cseq, challenge(true)));
        return;
      }
      if (!check.ok) {
        s.write(response('401 Unauthorized', cseq, challenge(false)));
        return;
      }
      if (req.method === 'DESCRIBE') {
        // An answer to nothing we asked (wrong CSeq) first: the client must not take it for its DESCRIBE answer.
        s.write(response('200 OK', '999', ['Content-Type: application/sdp'], 'v=0\r\n'));
        s.write(response('200 OK', cseq, ['Content-Type: application/sdp', `Content-Base: ${cam.url('/cam/')}`], SDP_AUDIO_FIRST));
      } else if (req.method === 'SETUP') {
        s.write(response('200 OK', cseq, ['Session: sess42;timeout=1', 'Transport: RTP/AVP/TCP;unicast;interleaved=2-3']));
      } else if (req.method === 'PLAY') {
        s.write(response('200 OK', cseq, ['Session: sess42']));
        await sleep(10);
        // Several frames in one chunk, a frame cut in two, RTCP, and the server's own request in between.
        s.write(Buffer.concat([interleaved(2, rtpSent[0]!), interleaved(3, Buffer.alloc(28, 0x81)), interleaved(2, rtpSent[1]!).subarray(0, 700)]));
        await sleep(15);
        s.write(Buffer.concat([interleaved(2, rtpSent[1]!).subarray(700), interleaved(2, rtpSent[2]!)]));
        s.write('GET_PARAMETER rtsp://127.0.0.1/cam/ RTSP/1.0\r\nCSeq: 77\r\nSession: sess42\r\n\r\n');
        s.write(Buffer.concat([interleaved(2, rtpSent[3]!), interleaved(3, Buffer.alloc(12, 0x81)), interleaved(2, rtpSent[4]!)]));
      } else {
        s.write(response('200 OK', cseq, ['Session: sess42']));
      }
    });
    try {
      const camUrl = cam.url('/cam').replace('rtsp://', 'rtsp://admin:s3cret@');
      const { client, packets, closes } = receiver(camUrl);
      const track = await client.start();
      expect(track).toMatchObject({ codec: 'H264', payloadType: 96, control: cam.url('/cam/trackID=1') });
      expect(track.parameterSets.map((n) => n[0]! & 0x1f)).toEqual([7, 8]);

      await waitFor('five RTP packets', () => packets.length >= 5, 2000);
      expect(packets).toEqual(rtpSent);
      expect(client.stats().rtcpPackets).toBe(2);
      await waitFor("an answer to the server's GET_PARAMETER", () => cam.answers.length > 0, 2000);
      expect(cam.answers[0]).toMatch(/^RTSP\/1\.0 200 OK\n/);
      expect(cam.answers[0]).toContain('CSeq: 77');

      // Session timeout=1 s: a keep-alive every 500 ms, OPTIONS since GET_PARAMETER is not public.
      await waitFor('a keep-alive', () => cam.requests.some((r) => r.method === 'OPTIONS' && r.headers.session === 'sess42'), 1500);
      expect(client.stats().keepAlives).toBeGreaterThanOrEqual(1);
      expect(cam.requests.some((r) => r.method === 'GET_PARAMETER')).toBe(false);

      await client.close();
      const teardown = cam.requests.find((r) => r.method === 'TEARDOWN');
      expect(teardown?.headers.session).toBe('sess42');
      expect(closes).toEqual([null]);

      // Every authorised request passed the camera's own check; the count restarted with the new nonce.
      expect(checks.every((c) => c.ok)).toBe(true);
      expect(checks.map((c) => [c.method, c.nonce, c.nc]).slice(0, 5)).toEqual([
        ['DESCRIBE', 'n1', '00000001'],
        ['DESCRIBE', 'n2', '00000001'],
        ['SETUP', 'n2', '00000002'],
        ['PLAY', 'n2', '00000003'],
        ['OPTIONS', 'n2', '00000004'],
      ]);
    } finally {
      await cam.close();
    }
  });

  /** Answers the start sequence without auth; `after` handles what comes once PLAY is answered. */
  function plainCamera(after: (req: Request, s: Socket) => void, publicMethods = 'OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN') {
    return scriptedCamera((req, s) => {
      const cseq = req.headers.cseq;
      if (req.method === 'OPTIONS' && !req.headers.session) s.write(response('200 OK', cseq, [`Public: ${publicMethods}`]));
      else if (req.method === 'DESCRIBE') s.write(response('200 OK', cseq, ['Content-Type: application/sdp'], SDP_AUDIO_FIRST));
      else if (req.method === 'SETUP') s.write(response('200 OK', cseq, ['Session: abc', 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1']));
      else if (req.method === 'PLAY') s.write(response('200 OK', cseq, ['Session: abc']));
      else after(req, s);
    });
  }

  it('no data at all for timeoutMs once playing ends the session with a timeout (unanswered keep-alives alone do not)', async () => {
    const cam = await plainCamera(() => {});
    try {
      const { client, closes } = receiver(cam.url('/cam'), { timeoutMs: 400, keepAliveMs: 100 });
      const track = await client.start();
      expect(track.control).toBe(cam.url('/cam/trackID=1'));
      const t0 = Date.now();
      await waitFor('onClose', () => closes.length > 0, 2000);
      const took = Date.now() - t0;
      expect(closes[0]?.reason).toBe('timeout');
      expect(took).toBeGreaterThanOrEqual(350);
      expect(took).toBeLessThan(900);
      expect(cam.requests.filter((r) => r.method === 'GET_PARAMETER').length).toBeGreaterThanOrEqual(2);
      await client.close();
      expect(closes).toHaveLength(1);
    } finally {
      await cam.close();
    }
  });

  /** Like plainCamera, and on PLAY starts `stream(socket)`, which sends RTP on channel 0. */
  function streamingCamera(stream: (s: Socket) => void) {
    return scriptedCamera((req, s) => {
      const cseq = req.headers.cseq;
      if (req.method === 'DESCRIBE') s.write(response('200 OK', cseq, ['Content-Type: application/sdp'], SDP_AUDIO_FIRST));
      else if (req.method === 'SETUP') s.write(response('200 OK', cseq, ['Session: abc', 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1']));
      else if (req.method === 'PLAY') {
        s.write(response('200 OK', cseq, ['Session: abc']));
        stream(s);
      } else s.write(response('200 OK', cseq, ['Session: abc']));
    });
  }

  it("keeps up with bursts larger than its read buffer and TCP's receive window even when reading rarely", async () => {
    // 2 × 300 packets of 1.4 kB, ~850 kB in two bursts: at one 64 KiB read per 1.5 s this would take ~20 s.
    const cam = await streamingCamera((s) => {
      const burst = (from: number) => Buffer.concat(Array.from({ length: 300 }, (_, i) => interleaved(0, fakeRtp(from + i, 1400))));
      s.write(burst(0));
      setTimeout(() => s.writable && s.write(burst(300)), 100);
    });
    try {
      const { client, packets } = receiver(cam.url('/cam'), { readEveryMs: 1500 });
      await client.start();
      await waitFor('600 packets', () => packets.length >= 600, 1200);
      expect(packets.map((p) => p.readUInt16BE(2))).toEqual(Array.from({ length: 600 }, (_, i) => i));
      await client.close();
    } finally {
      await cam.close();
    }
  });

  it('setReadEvery() changes how often a playing session reads', async () => {
    let seq = 0;
    let timer: NodeJS.Timeout | undefined;
    const cam = await streamingCamera((s) => {
      timer = setInterval(() => s.writable && s.write(interleaved(0, fakeRtp(seq++, 200))), 10);
    });
    try {
      const { client, packets } = receiver(cam.url('/cam'));
      await client.start();
      await sleep(600);
      const eager = client.stats();
      client.setReadEvery(300);
      await sleep(1200);
      const batched = client.stats();
      // Read as they come (~100 packets a second): about a read per packet. Then ~3 reads a second.
      expect(eager.reads).toBeGreaterThan(0.5 * eager.rtpPackets);
      expect(batched.rtpPackets - eager.rtpPackets).toBeGreaterThan(60);
      expect(batched.reads - eager.reads).toBeLessThanOrEqual(6);
      await client.close();
      expect(packets.every((p, i) => p.readUInt16BE(2) === i)).toBe(true);
    } finally {
      clearInterval(timer);
      await cam.close();
    }
  });

  it('a keep-alive GET_PARAMETER answered 501 switches later keep-alives to OPTIONS', async () => {
    const cam = await plainCamera((req, s) => {
      s.write(response(req.method === 'GET_PARAMETER' ? '501 Not Implemented' : '200 OK', req.headers.cseq, ['Session: abc']));
    });
    try {
      const { client } = receiver(cam.url('/cam'), { keepAliveMs: 80 });
      await client.start();
      await waitFor('an OPTIONS keep-alive', () => cam.requests.some((r) => r.method === 'OPTIONS' && r.headers.session === 'abc'), 1500);
      await client.close();
      const keepAlives = cam.requests.filter((r) => r.headers.session === 'abc' && r.method !== 'PLAY' && r.method !== 'TEARDOWN').map((r) => r.method);
      expect(keepAlives[0]).toBe('GET_PARAMETER');
      expect(keepAlives.slice(1).every((m) => m === 'OPTIONS')).toBe(true);
    } finally {
      await cam.close();
    }
  });

  it('close() while start() is waiting rejects start() with stopped and calls no onClose', async () => {
    const cam = await scriptedCamera(() => {}); // never answers
    try {
      const { client, closes } = receiver(cam.url('/cam'));
      const started = client.start();
      await waitFor('OPTIONS', () => cam.requests.length > 0, 2000);
      await client.close();
      await expect(started).rejects.toMatchObject({ reason: 'stopped' });
      expect(closes).toEqual([]);
    } finally {
      await cam.close();
    }
  });

  it('a stream with no video is a codec error', async () => {
    const audioOnly = SDP_AUDIO_FIRST.split('m=video')[0]!;
    const cam = await scriptedCamera((req, s) => {
      if (req.method === 'DESCRIBE') s.write(response('200 OK', req.headers.cseq, ['Content-Type: application/sdp'], audioOnly));
      else s.write(response('200 OK', req.headers.cseq));
    });
    try {
      const err = await startFails(cam.url('/cam'));
      expect(err.reason).toBe('codec');
      expect(err.message).toContain('audio');
    } finally {
      await cam.close();
    }
  });
});

// --- Units ---

describe('RtspStreamParser', () => {
  const sdpBody = 'v=0\r\nm=video 0 RTP/AVP 96\r\n';
  const garbage = Buffer.concat([Buffer.from([0x00, 0xff, 0x13, 0x24, 0x07, 0x00, 0x10]), Buffer.from('xyz HELLO there, no line end\r\n')]);
  const payloads = [Buffer.from('RTSP/1.0 200 OK inside a packet $$'), Buffer.alloc(0), Buffer.alloc(1500, 0x24), Buffer.from(Array.from({ length: 65_535 }, (_, i) => (i * 7) & 0xff))];
  const stream = Buffer.concat([
    Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\nContent-Length: ${sdpBody.length}\r\n\r\n${sdpBody}`),
    interleaved(0, payloads[0]!),
    interleaved(1, payloads[1]!),
    garbage,
    interleaved(0, payloads[2]!),
    Buffer.from('GET_PARAMETER rtsp://cam/ RTSP/1.0\r\nCSeq: 9\r\nSession: s1\r\n\r\n'),
    interleaved(0, payloads[3]!),
    // Bare LF line ends and a repeated header.
    Buffer.from('RTSP/1.0 401 Unauthorized\nCSeq: 4\nWWW-Authenticate: Digest realm="a"\nWWW-Authenticate: Basic realm="a"\n\n'),
    interleaved(1, Buffer.from([0x80, 0xc8, 0, 6])),
  ]);

  function run(chunks: Buffer[]) {
    const events: string[] = [];
    const parser = new RtspStreamParser({
      interleaved: (ch, p) => events.push(`$${ch}:${p.length}:${createHash('md5').update(p).digest('hex')}`),
      message: (m: RtspMessage) =>
        events.push(`${m.kind}:${m.status}:${m.method}:${m.uri}:${m.header('cseq')}:${m.allHeaders('www-authenticate').join('|')}:${m.body.toString()}`),
    });
    for (const c of chunks) parser.push(c);
    return { events, skipped: parser.skippedBytes, pending: parser.pending };
  }

  function chunked(sizes: (i: number) => number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0, at = 0; at < stream.length; i++) {
      const n = sizes(i);
      // A fresh Buffer per chunk, as a socket gives: views handed out must not depend on the caller's buffer.
      out.push(Buffer.from(stream.subarray(at, at + n)));
      at += n;
    }
    return out;
  }

  it('gives every frame and message, skipping the garbage, when fed whole', () => {
    const { events, skipped, pending } = run([stream]);
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
    expect(events).toEqual([
      `response:200:::3::${sdpBody}`,
      `$0:${payloads[0]!.length}:${md5(payloads[0]!)}`,
      `$1:0:${md5(Buffer.alloc(0))}`,
      `$0:1500:${md5(payloads[2]!)}`,
      'request:0:GET_PARAMETER:rtsp://cam/:9::',
      `$0:65535:${md5(payloads[3]!)}`,
      'response:401:::4:Digest realm="a"|Basic realm="a":',
      `$1:4:${md5(Buffer.from([0x80, 0xc8, 0, 6]))}`,
    ]);
    expect(skipped).toBe(garbage.length);
    expect(pending).toBe(0);
  });

  it('gives the same fed byte by byte and in odd-sized chunks', () => {
    const whole = run([stream]);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % 3000);
    };
    for (const sizes of [() => 1, () => 7, () => 13, () => 1000, (i: number) => (i % 2 ? 3 : 4099), random]) {
      expect(run(chunked(sizes))).toEqual(whole);
    }
  });

  it('hands out frames that arrive whole as views of the chunk, not copies', () => {
    const a = fakeRtp(1, 100);
    const b = fakeRtp(2, 200);
    const chunk = Buffer.concat([interleaved(0, a), interleaved(0, b)]);
    const seen: Buffer[] = [];
    new RtspStreamParser({ interleaved: (_ch, p) => seen.push(p), message: () => {} }).push(chunk);
    expect(seen.map((p) => p.buffer === chunk.buffer)).toEqual([true, true]);
    expect(seen[1]!.byteOffset).toBe(chunk.byteOffset + 4 + a.length + 4);
  });

  it('does not take a `$` before an unexpected channel for a frame, and follows the channels it is told', () => {
    const events: number[] = [];
    const parser = new RtspStreamParser({ interleaved: (ch) => events.push(ch), message: () => {} });
    parser.push(Buffer.concat([interleaved(5, Buffer.alloc(3)), interleaved(0, Buffer.alloc(2))]));
    expect(events).toEqual([0]);
    parser.setChannels([2, 3]);
    parser.push(Buffer.concat([interleaved(0, Buffer.alloc(2)), interleaved(3, Buffer.alloc(2))]));
    expect(events).toEqual([0, 3]);
  });

  it('does not wait for the end of a "message" that a capital word in garbage seemed to start', () => {
    const events: number[] = [];
    const parser = new RtspStreamParser({ interleaved: (ch) => events.push(ch), message: () => {} });
    // No blank line anywhere after it: taking it for a message would hold every frame back.
    parser.push(Buffer.concat([Buffer.from('JUNK words here\r\n'), interleaved(0, Buffer.alloc(9)), interleaved(1, Buffer.alloc(3))]));
    expect(events).toEqual([0, 1]);
    expect(parser.pending).toBe(0);
    expect(parser.skippedBytes).toBe('JUNK words here\r\n'.length);
  });
});

describe('SDP', () => {
  const base = 'rtsp://cam.local:554/Streaming/ch1';

  it('resolves a=control: relative, absolute, *, host-absolute, and against a Content-Base with or without a slash', () => {
    expect(resolveControl('trackID=1', base)).toBe(`${base}/trackID=1`);
    expect(resolveControl('trackID=1', `${base}/`)).toBe(`${base}/trackID=1`);
    expect(resolveControl('rtsp://other:8554/x/track1', base)).toBe('rtsp://other:8554/x/track1');
    expect(resolveControl('*', base)).toBe(base);
    expect(resolveControl(null, base)).toBe(base);
    expect(resolveControl('/media/video1', base)).toBe('rtsp://cam.local:554/media/video1');
  });

  it('takes the first video media when audio comes first, with its codec, clock and SPS/PPS', () => {
    const track = videoTrack(parseSdp(SDP_AUDIO_FIRST), base)!;
    expect(track).toMatchObject({ codec: 'H264', payloadType: 96, clockRate: 90_000, control: `${base}/trackID=1` });
    expect(track.fmtp['packetization-mode']).toBe('1');
    expect(track.fmtp['sprop-parameter-sets']).toBe('Z01AFtkAoD2hAAADAAEAAAMAFA8WLkg=,aOvAlLI=');
    expect(track.parameterSets.map((b) => b.toString('hex'))).toEqual(['674d4016d900a03da1000003000100000300140f162e48', '68ebc094b2']);
  });

  it('uses a session-level control as the base for media controls, and * for the media as the aggregate itself', () => {
    const sdp = 'v=0\r\na=control:rtsp://cam.local/live/\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 h265/90000\r\na=control:video\r\n';
    const track = videoTrack(parseSdp(sdp), base)!;
    expect(track.control).toBe('rtsp://cam.local/live/video');
    expect(track.codec).toBe('H265');
    expect(track.parameterSets).toEqual([]);
    const star = videoTrack(parseSdp('v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=control:*\n'), base)!;
    expect(star.control).toBe(base);
  });

  it('knows static payload types, and finds no track without video or without a codec', () => {
    expect(videoTrack(parseSdp('v=0\r\nm=video 0 RTP/AVP 26\r\n'), base)).toMatchObject({ codec: 'JPEG', payloadType: 26, clockRate: 90_000 });
    expect(videoTrack(parseSdp('v=0\r\nm=audio 0 RTP/AVP 0\r\n'), base)).toBeNull();
    expect(videoTrack(parseSdp('v=0\r\nm=video 0 RTP/AVP 97\r\n'), base)).toBeNull();
  });

  it('decodes sprop-parameter-sets, ignoring empty entries and spaces', () => {
    expect(decodeParameterSets(' Z0IAH5Wo , aM4G4g==,').map((b) => b.toString('hex'))).toEqual(['6742001f95a8', '68ce06e2']);
  });
});

describe('RTSP authentication', () => {
  it('computes the RFC 2617 Digest example (MD5, qop=auth) and the RFC 7616 SHA-256 one', () => {
    expect(
      digestResponse({
        user: 'Mufasa',
        password: 'Circle Of Life',
        realm: 'testrealm@host.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        method: 'GET',
        uri: '/dir/index.html',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
    const rfc7616 = {
      user: 'Mufasa',
      password: 'Circle of Life',
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth' as const,
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    expect(digestResponse({ ...rfc7616, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    expect(digestResponse({ ...rfc7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('parses several challenges in one header, prefers Digest, and sees stale', () => {
    const challenges = parseChallenges(['Basic realm="r"', 'Digest realm="a, b", nonce="x\\"y", qop="auth,auth-int", stale=TRUE, Basic realm="r2"']);
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'digest', 'basic']);
    expect(challenges[1]!.params).toEqual({ realm: 'a, b', nonce: 'x"y', qop: 'auth,auth-int', stale: 'TRUE' });
    expect(challenges[2]!.params).toEqual({ realm: 'r2' });
    expect(chooseChallenge(challenges)?.scheme).toBe('digest');
    expect(isStale(challenges[1]!)).toBe(true);
    expect(chooseChallenge(parseChallenges(['Basic realm="x"']))?.scheme).toBe('basic');
    expect(chooseChallenge(parseChallenges(['Digest realm="x", nonce="n", algorithm=SHA-512-256', 'Negotiate']))).toBeNull();
  });

  it('builds Basic and Digest headers; without qop there is no nc or cnonce, with it nc counts up', () => {
    expect(new RtspAuthenticator('u', 'p:w', { scheme: 'basic', params: {} }).header('DESCRIBE', 'rtsp://h/x')).toBe(
      `Basic ${Buffer.from('u:p:w').toString('base64')}`,
    );
    const plain = new RtspAuthenticator('u', 'p', { scheme: 'digest', params: { realm: 'r', nonce: 'n' } }).header('DESCRIBE', 'rtsp://h/x');
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    expect(plain).toBe(`Digest username="u", realm="r", nonce="n", uri="rtsp://h/x", response="${md5(`${md5('u:r:p')}:n:${md5('DESCRIBE:rtsp://h/x')}`)}"`);
    const withQop = new RtspAuthenticator('u', 'p', { scheme: 'digest', params: { realm: 'r', nonce: 'n', qop: 'auth' } }, () => 'c0ffee');
    expect(withQop.header('SETUP', 'rtsp://h/x/t1')).toContain('qop=auth, nc=00000001, cnonce="c0ffee"');
    expect(withQop.header('PLAY', 'rtsp://h/x')).toContain('nc=00000002');
  });
});
