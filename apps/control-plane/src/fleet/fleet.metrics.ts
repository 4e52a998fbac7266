import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '@platform/observability';

/** Fleet migration metrics, labelled by outcome only (never by tenant or run id). */
@Injectable()
export class FleetMetrics {
  readonly tenants: Counter<'outcome'>;
  readonly duration: Histogram<'outcome'>;

  constructor(metrics: MetricsRegistry) {
    this.tenants = new Counter({
      name: 'fleet_tenant_migrations_total',
      help: 'Tenant schemas a fleet run handled, by outcome (migrated, unchanged, failed)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'fleet_tenant_migration_duration_seconds',
      help: 'Time to bring one tenant schema to the run target',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers: [metrics.registry],
    });
  }
}
