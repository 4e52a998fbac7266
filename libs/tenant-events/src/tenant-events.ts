import { Redis } from 'ioredis';
import type { ReadinessCheck } from '@platform/observability';
import { parseTenantChangedEvent, type TenantEvent } from './tenant-change.event';

export interface TenantEventsSettings {
  readonly redisUrl: string;
  readonly prefix: string;
}

/**
 * Tenant change notifications over Redis pub/sub: at most once and only to replicas listening
 * right now, which is why receivers also expire what they cache and forget everything whenever
 * their subscription is re-established.
 */
export class TenantEvents implements ReadinessCheck {
  readonly name = 'redis';
  private readonly channel: string;
  private readonly publisher: Redis;
  private subscriber: Redis | null = null;

  constructor(private readonly settings: TenantEventsSettings) {
    this.channel = `${settings.prefix}:tenant-events`;
    this.publisher = new Redis(settings.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
    this.publisher.on('error', () => undefined); // surfaced through check() and failed publishes
  }

  async publishTenantChanged(tenantId: string, hostnames: readonly string[]): Promise<void> {
    await this.publisher.publish(
      this.channel,
      JSON.stringify({ type: 'tenant-changed', tenantId, hostnames }),
    );
  }

  async subscribe(handler: (event: TenantEvent) => void): Promise<void> {
    if (this.subscriber) throw new Error('TenantEvents already has a subscriber');
    const subscriber = new Redis(this.settings.redisUrl, { lazyConnect: true });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => handler({ type: 'resync' }));
    subscriber.on('message', (_channel: string, raw: string) => {
      const event = parseTenantChangedEvent(raw);
      if (event) handler(event);
    });
    await subscriber.connect();
    await subscriber.subscribe(this.channel);
  }

  async check(): Promise<void> {
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.publisher.quit(), this.subscriber?.quit()]);
  }
}
