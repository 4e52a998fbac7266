import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import type { Page } from '../tenants/tenant-registry.service';
import { ListAuditQuery, TenantAuditQuery } from './dto/list-audit.query';
import { AuditTrail, type AuditEntryView } from './audit-trail.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1')
export class AuditController {
  constructor(private readonly trail: AuditTrail) {}

  /** Every audited change, newest first; filter by tenant, operator, action and time. */
  @Get('audit')
  @Roles('viewer')
  list(@Query() query: ListAuditQuery): Promise<Page<AuditEntryView>> {
    return this.trail.list(query);
  }

  /** One tenant's audit entries (its page in the console). */
  @Get('tenants/:idOrSlug/audit')
  @Roles('viewer')
  forTenant(
    @Param('idOrSlug') idOrSlug: string,
    @Query() query: TenantAuditQuery,
  ): Promise<Page<AuditEntryView>> {
    return this.trail.forTenant(idOrSlug, query);
  }
}
