import {
  Inject,
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { TenantEvents } from '@platform/tenant-events';
import { TenantResolutionModule } from '../tenant-resolution/tenant-resolution.module';
import { CertificateDirectory } from './certificate-directory';
import { CertificateStore } from './certificate-store.service';
import { DataPlaneHttpsServer } from './data-plane-https.server';
import { HttpsRedirectMiddleware } from './https-redirect.middleware';
import { TlsMetrics } from './tls.metrics';
import { TLS_TENANT_EVENTS } from './tls.tokens';

/**
 * HTTPS on the data plane: certificates by SNI from the registry, the listener, and the
 * redirect from plain HTTP. Imported only when DATA_PLANE_HTTPS_PORT is set, so an HTTP-only
 * data plane pays nothing for it.
 */
@Module({
  imports: [TenantResolutionModule],
  providers: [
    {
      provide: TLS_TENANT_EVENTS,
      inject: [DATA_PLANE_CONFIG],
      useFactory: (config: DataPlaneConfig) =>
        new TenantEvents({ redisUrl: config.redisUrl.reveal(), prefix: config.redisPrefix }),
    },
    CertificateDirectory,
    CertificateStore,
    TlsMetrics,
    DataPlaneHttpsServer,
    HttpsRedirectMiddleware,
  ],
  exports: [DataPlaneHttpsServer, CertificateStore],
})
export class TlsModule implements NestModule, OnApplicationShutdown {
  constructor(
    @Inject(DATA_PLANE_CONFIG) private readonly config: DataPlaneConfig,
    @Inject(TLS_TENANT_EVENTS) private readonly events: TenantEvents,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    // The middleware itself lets ACME challenges, health and metrics through.
    if (this.config.tls?.redirectHttp) {
      consumer.apply(HttpsRedirectMiddleware).forRoutes('{*path}');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }
}
