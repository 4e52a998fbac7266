import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from '@platform/observability';
import { MigrationRunRepository } from './migration-run.repository';
import { RUN_TENANT_STATUSES } from './migration-run.types';

/**
 * Progress of the runs in flight, read from the registry at scrape time: tenants of running runs
 * by status. Labelled by status only, so it stays a handful of series however many runs exist.
 */
@Injectable()
export class FleetProgressGauge {
  constructor(metrics: MetricsRegistry, runs: MigrationRunRepository) {
    new Gauge({
      name: 'fleet_migration_running_tenants',
      help: 'Tenants of running migration runs, by their status in the run',
      labelNames: ['status'],
      registers: [metrics.registry],
      async collect() {
        const counts = await runs.countsOfRunningRuns();
        for (const status of RUN_TENANT_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
  }
}
