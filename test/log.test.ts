import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { childLogger, createLogger } from '../pipeline/log/index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ destination, level: 'info' }) };
}

describe('childLogger', () => {
  it('scopes nested stages to a camera once, not once per stage', () => {
    const { lines, logger } = capture();
    const runner = childLogger(logger, { camera: 'dock-001' });
    const ingest = childLogger(runner, { camera: 'dock-001', stream: 'rtsp://***@host/sub' });
    ingest.info('camera stream ended');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.match(/"camera":/g)).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ camera: 'dock-001', stream: 'rtsp://***@host/sub' });
  });

  it('still binds a different value, and returns the parent when nothing is new', () => {
    const { lines, logger } = capture();
    const a = childLogger(logger, { camera: 'dock-001' });
    expect(childLogger(a, { camera: 'dock-001' })).toBe(a);
    childLogger(a, { camera: 'gate-002' }).info('x');
    expect(JSON.parse(lines[0]!).camera).toBe('gate-002');
  });
});
