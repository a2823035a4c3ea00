import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook deliveries. The body is the alert message as JSON; with a secret the
 * request carries `X-Portwatch-Signature: sha256=<hex>`, the HMAC-SHA256 of
 * `<timestamp>.<body>` with the route's secret, and `X-Portwatch-Timestamp`
 * (Unix seconds), so a receiver can refuse forgeries and replays.
 * `X-Portwatch-Delivery` is the same for every retry of one delivery.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): true when the signature matches. */
export function verifyWebhook(secret: string, timestamp: number, body: string, signature: string): boolean {
  const want = Buffer.from(signWebhook(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export interface WebhookDelivery {
  url: string;
  secret?: string | undefined;
  body: string;
  deliveryId: string;
  /** Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class WebhookError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

/** One attempt. Resolves on any 2xx; throws a WebhookError naming the status or the network failure otherwise. */
export async function deliverWebhook(d: WebhookDelivery): Promise<number> {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'portwatch-alerts',
    'x-portwatch-delivery': d.deliveryId,
    'x-portwatch-timestamp': String(timestamp),
  };
  if (d.secret) headers['x-portwatch-signature'] = signWebhook(d.secret, timestamp, d.body);
  let res: Response;
  try {
    res = await (d.fetch ?? fetch)(d.url, { method: 'POST', headers, body: d.body, signal: AbortSignal.timeout(d.timeoutMs ?? 10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new WebhookError(`webhook POST failed: ${cause}`, null);
  }
  // The body is not needed; drain it so the connection is reused.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new WebhookError(`webhook answered ${res.status}`, res.status);
  return res.status;
}
