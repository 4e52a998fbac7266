import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { ResolvedTenant } from '@platform/tenancy';
import { CurrentTenant } from '../tenant-resolution/current-tenant.decorator';

export interface TenantProfile {
  id: string;
  slug: string;
  name: string;
  plan: string;
  status: string;
}

/** The tenant's public profile, straight from host resolution: no database round trip. */
@ApiTags('tenant')
@Controller('api/tenant')
export class TenantProfileController {
  @Get()
  profile(@CurrentTenant() tenant: ResolvedTenant): TenantProfile {
    return {
      id: tenant.id,
      slug: tenant.slug,
      name: tenant.name,
      plan: tenant.plan,
      status: tenant.status,
    };
  }
}
