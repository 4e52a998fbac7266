import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProvisioningQueue } from './provisioning.queue';

/**
 * At worker start, re-enqueues every tenant still `provisioning`. Heals a lost enqueue (API
 * crashed between commit and enqueue, Redis flushed); a tenant whose job exists is untouched
 * because the job id is the tenant's.
 */
@Injectable()
export class ProvisioningRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger(ProvisioningRecovery.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly queue: ProvisioningQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const rows: { id: string }[] = await this.registry.query(
      `SELECT id FROM platform.tenants WHERE status = 'provisioning'`,
    );
    for (const row of rows) await this.queue.enqueue(row.id);
    if (rows.length > 0) this.logger.log({ tenants: rows.length }, 're-enqueued provisioning');
  }
}
