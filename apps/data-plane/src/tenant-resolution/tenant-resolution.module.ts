import { Module } from '@nestjs/common';
import { TenantDirectory } from './tenant-directory';
import { TenantResolutionMiddleware } from './tenant-resolution.middleware';
import { TenantResolver } from './tenant-resolver.service';

@Module({
  providers: [TenantDirectory, TenantResolver, TenantResolutionMiddleware],
  exports: [TenantResolver, TenantResolutionMiddleware],
})
export class TenantResolutionModule {}
