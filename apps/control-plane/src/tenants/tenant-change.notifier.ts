import { Injectable, Logger } from '@nestjs/common';
import { TenantEvents } from '@platform/tenant-events';

/**
 * Tells every data-plane replica to forget what it cached about a tenant. Called after the
 * registry transaction commits; a lost message is bounded by the data plane's cache TTL.
 */
@Injectable()
export class TenantChangeNotifier {
  private readonly logger = new Logger(TenantChangeNotifier.name);

  constructor(private readonly events: TenantEvents) {}

  async tenantChanged(tenantId: string, hostnames: readonly string[]): Promise<void> {
    try {
      await this.events.publishTenantChanged(tenantId, hostnames);
    } catch (error) {
      this.logger.warn({ tenantId, err: error }, 'could not announce tenant change; caches expire');
    }
  }
}
