import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../log/index.js';

export interface MqttPublisherOptions {
  url: string;
  /** Topic root; default `portwatch`. */
  prefix?: string;
  logger: Logger;
  clientId?: string;
}

/**
 * Alerts, camera states and berth occupancy on an MQTT broker, the way Frigate
 * publishes `frigate/events`:
 * - `<prefix>/alerts`: every alert change (the alert message), not retained;
 * - `<prefix>/cameras/<id>/state`: `{camera, state, faults, time}`, retained, so a new subscriber sees every camera's state at once;
 * - `<prefix>/berths/<id>`: `{berth, vessels: [mmsi…], occupied, time}`, retained.
 * QoS 1. While the broker is away the client queues and reconnects by itself.
 */
export class MqttPublisher {
  readonly prefix: string;
  private readonly client: MqttClient;
  private readonly log: Logger;
  published = 0;
  failed = 0;

  constructor(opts: MqttPublisherOptions) {
    this.prefix = opts.prefix ?? 'portwatch';
    this.log = opts.logger.child({ stage: 'alerts-mqtt' });
    this.client = mqtt.connect(opts.url, {
      clientId: opts.clientId ?? `portwatch-alerts-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
    });
    let warned = false;
    this.client.on('error', (err) => {
      if (!warned) this.log.warn({ err: err.message }, `MQTT broker error: ${err.message}`);
      warned = true;
    });
    this.client.on('connect', () => {
      if (warned) this.log.info('MQTT broker reachable again');
      warned = false;
    });
  }

  alert(message: unknown): Promise<void> {
    return this.publish(`${this.prefix}/alerts`, message, false);
  }

  camera(camera: string, state: unknown): Promise<void> {
    return this.publish(`${this.prefix}/cameras/${camera}/state`, state, true);
  }

  berth(berth: string, state: unknown): Promise<void> {
    return this.publish(`${this.prefix}/berths/${berth}`, state, true);
  }

  private async publish(topic: string, payload: unknown, retain: boolean): Promise<void> {
    try {
      await this.client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain });
      this.published++;
    } catch (err) {
      this.failed++;
      this.log.warn({ topic, err: (err as Error).message }, 'MQTT publish failed');
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => undefined);
  }
}
