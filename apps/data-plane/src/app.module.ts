import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DATA_PLANE_CONFIG, PlatformConfigModule, type DataPlaneConfig } from '@platform/config';
import { ClusterConnections, DatabaseModule } from '@platform/database';
import { ObservabilityModule, READINESS_CHECKS } from '@platform/observability';
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { TenantEvents, TenantEventsModule } from '@platform/tenant-events';
import { AcmeChallengeModule } from './acme-challenge/acme-challenge.module';
import { AuthModule } from './auth/auth.module';
import { DataPlaneExceptionFilter } from './errors/data-plane-exception.filter';
import { LookupsController } from './lookups/lookups.controller';
import { FilesModule } from './files/files.module';
import { ProjectsModule } from './projects/projects.module';
import { QuotasModule } from './quotas/quotas.module';
import { RateLimitMiddleware } from './rate-limits/rate-limit.middleware';
import { RateLimitsModule } from './rate-limits/rate-limits.module';
import { TenantProfileController } from './tenant-profile/tenant-profile.controller';
import { TenantResolutionMiddleware } from './tenant-resolution/tenant-resolution.middleware';
import { TenantResolutionModule } from './tenant-resolution/tenant-resolution.module';
import { TlsModule } from './tls/tls.module';
import { WelcomePageController } from './welcome/welcome-page.controller';

@Module({})
export class DataPlaneModule implements NestModule {
  static forRoot(config: DataPlaneConfig): DynamicModule {
    return {
      module: DataPlaneModule,
      imports: [
        PlatformConfigModule.forRoot(DATA_PLANE_CONFIG, config),
        DatabaseModule.forRoot({
          applicationName: 'data-plane',
          templateMigrations: TENANT_TEMPLATE_MIGRATIONS,
        }),
        TenantEventsModule,
        ObservabilityModule.forRoot({
          service: 'data-plane',
          readinessChecks: {
            provide: READINESS_CHECKS,
            inject: [ClusterConnections, TenantEvents],
            useFactory: (clusters: ClusterConnections, events: TenantEvents) => [clusters, events],
          },
        }),
        TenantResolutionModule,
        RateLimitsModule,
        AuthModule,
        ProjectsModule,
        FilesModule,
        QuotasModule,
        AcmeChallengeModule,
        // HTTPS with certificates by SNI, only when DATA_PLANE_HTTPS_PORT is set.
        ...(config.tls ? [TlsModule] : []),
      ],
      controllers: [TenantProfileController, LookupsController, WelcomePageController],
      providers: [{ provide: APP_FILTER, useClass: DataPlaneExceptionFilter }],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Everything under /api is a tenant's; health, metrics and docs belong to the replica.
    // The welcome page too: an unknown host gets 404, not a form.
    consumer.apply(TenantResolutionMiddleware).forRoutes('api/*path', 'welcome', 'welcome/*path');
    // After resolution (it needs the tenant): per-tenant limits on the tenant's API.
    consumer.apply(RateLimitMiddleware).forRoutes('api/*path');
  }
}
