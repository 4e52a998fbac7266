import { Controller, Get, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { TenantRequest } from '../tenant-resolution/tenant-resolution.middleware';

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
  profile(@Req() request: TenantRequest): TenantProfile {
    const tenant = request.tenant!;
    return {
      id: tenant.id,
      slug: tenant.slug,
      name: tenant.name,
      plan: tenant.plan,
      status: tenant.status,
    };
  }
}
