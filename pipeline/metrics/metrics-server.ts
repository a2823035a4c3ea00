import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/index.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** GET /metrics of one process on its own port (`--metrics-port`), for workers without the API. */
export async function startMetricsServer(o: { registry: Registry; port: number; host?: string; logger: Logger }): Promise<MetricsServer> {
  const host = o.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    o.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': o.registry.contentType }).end(text),
      (err) => {
        o.logger.warn({ err: (err as Error).message }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${(err as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => resolve());
  });
  const addr = server.address();
  const url = `http://${host}:${typeof addr === 'object' && addr ? addr.port : o.port}/metrics`;
  o.logger.info({ url }, `metrics on ${url}`);
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}
