import { Command, CommandRunner, Option } from 'nest-commander';
import { TENANT_STATUSES, type TenantStatus } from '@platform/tenancy';
import { TenantRegistry } from '../tenants/tenant-registry.service';

interface ListOptions {
  status?: TenantStatus;
  search?: string;
  limit: number;
}

@Command({ name: 'tenants:list', description: 'List tenants (newest first)' })
export class TenantsListCommand extends CommandRunner {
  constructor(private readonly registry: TenantRegistry) {
    super();
  }

  async run(_params: string[], options: ListOptions): Promise<void> {
    const page = await this.registry.list({
      status: options.status,
      search: options.search,
      limit: options.limit ?? 50,
      offset: 0,
    });
    console.table(
      page.items.map((tenant) => ({
        slug: tenant.slug,
        status: tenant.status,
        template: tenant.templateVersion,
        cluster: tenant.cluster,
        id: tenant.id,
      })),
    );
    console.log(`${page.items.length} of ${page.total} tenants`);
  }

  @Option({ flags: '--status <status>', description: `one of ${TENANT_STATUSES.join(', ')}` })
  parseStatus(value: string): TenantStatus {
    if (!(TENANT_STATUSES as readonly string[]).includes(value)) {
      throw new Error(`--status must be one of ${TENANT_STATUSES.join(', ')}`);
    }
    return value as TenantStatus;
  }

  @Option({ flags: '--search <text>', description: 'match slug, name or admin e-mail' })
  parseSearch(value: string): string {
    return value;
  }

  @Option({ flags: '--limit <n>', description: 'at most this many (1-200, default 50)' })
  parseLimit(value: string): number {
    const limit = Number(value);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw new Error('--limit must be an integer from 1 to 200');
    }
    return limit;
  }
}
