import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '@platform/observability';
import type { LimitKind } from './rate-limit-decision';

/** Refusals by limit kind only: a tenant-id label would multiply series by the tenant count. */
@Injectable()
export class RateLimitMetrics {
  readonly refused: Counter<'limit'>;
  /** Decisions the replica's in-memory insurance limiter made because Redis failed. */
  readonly storeFailures: Counter;

  constructor(metrics: MetricsRegistry) {
    this.refused = new Counter({
      name: 'data_plane_rate_limited_requests_total',
      help: 'Requests refused with 429, by the limit that refused them (tenant or user)',
      labelNames: ['limit'],
      registers: [metrics.registry],
    });
    this.storeFailures = new Counter({
      name: 'data_plane_rate_limit_store_failures_total',
      help: 'Rate-limit decisions taken by the per-replica in-memory limiter because Redis failed',
      registers: [metrics.registry],
    });
    // Both series exist from the start, so a dashboard shows 0 rather than nothing.
    for (const limit of ['tenant', 'user'] satisfies LimitKind[]) this.refused.inc({ limit }, 0);
  }
}
