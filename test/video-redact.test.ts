import { describe, expect, it } from 'vitest';
import { describeStream, redactCredentials, StderrTail } from '../pipeline/video/index.js';

describe('redactCredentials', () => {
  it('removes user:password from URLs anywhere in a text', () => {
    expect(redactCredentials('rtsp://admin:pa55@10.1.2.3:554/Streaming/Channels/102')).toBe('rtsp://***@10.1.2.3:554/Streaming/Channels/102');
    expect(redactCredentials('[rtsp @ 0x55] rtsp://u:wrong@127.0.0.1:8554/vtest: Server returned 401 Unauthorized')).toBe(
      '[rtsp @ 0x55] rtsp://***@127.0.0.1:8554/vtest: Server returned 401 Unauthorized',
    );
    expect(redactCredentials('a rtsp://x:y@h/1 and RTSPS://p:q@h/2')).toBe('a rtsp://***@h/1 and RTSPS://***@h/2');
  });

  it('removes a user name alone, odd characters in passwords and secrets in query strings', () => {
    expect(redactCredentials('rtsp://operator@cam/sub')).toBe('rtsp://***@cam/sub');
    expect(redactCredentials('rtsp://a:p%40ss:w0rd@cam/x')).toBe('rtsp://***@cam/x');
    expect(redactCredentials('http://cam/snap.jpg?user=admin&password=hunter2&ch=1')).toBe('http://cam/snap.jpg?user=***&password=***&ch=1');
  });

  it('leaves URLs without credentials alone', () => {
    const s = 'rtsp://10.0.0.1:554/h264 and /path/with@sign';
    expect(redactCredentials(s)).toBe(s);
  });

  it('describes a stream by host and path only', () => {
    expect(describeStream('rtsp://admin:pa55@10.1.2.3:554/ch1?token=abc')).toBe('rtsp://10.1.2.3:554/ch1');
    expect(describeStream('not a url user:pw@x')).toBe('[unparsed stream URL]');
  });

  it('keeps stderr tails redacted, bounded and split on any line ending', () => {
    const tail = new StderrTail(3);
    tail.push('line1\rrtsp://u:secret@h/a: Connection refu');
    tail.push('sed\nx\ny\nz');
    const lines = tail.get();
    expect(lines).toEqual(['x', 'y', 'z']);
    const t2 = new StderrTail(5);
    t2.push('rtsp://u:secret@h/a: Connection refused\n');
    expect(t2.get()).toEqual(['rtsp://***@h/a: Connection refused']);
  });
});
