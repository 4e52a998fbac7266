import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry.module';
import { TenantLimitsController } from './tenant-limits.controller';
import { TenantLimits } from './tenant-limits.service';

/** Per-tenant overrides of the plan's limits (`/v1/tenants/:idOrSlug/limits`). */
@Module({
  imports: [RegistryModule],
  controllers: [TenantLimitsController],
  providers: [TenantLimits],
  exports: [TenantLimits],
})
export class LimitsModule {}
