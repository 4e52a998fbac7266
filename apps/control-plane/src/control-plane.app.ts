import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ControlPlaneConfig } from '@platform/config';
import { migratePlatformSchema } from '@platform/database';
import { applyHttpDefaults } from '@platform/http';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import { ControlPlaneModule } from './app.module';
import { prepareTenantAccess } from './tenant-access/prepare-tenant-access';
import { WorkerModule } from './worker.module';

/** The control plane's HTTP API (main.ts, e2e tests). Migrates the registry first. */
export async function createControlPlaneApp(
  config: ControlPlaneConfig,
): Promise<NestExpressApplication> {
  await migratePlatformSchema(config.databaseUrl.reveal(), PLATFORM_MIGRATIONS, (registry) =>
    prepareTenantAccess(registry, config),
  );
  const app = await NestFactory.create<NestExpressApplication>(ControlPlaneModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  applyHttpDefaults(app, { bodyLimit: config.bodyLimit, ...config.http });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tenancy control plane')
      .setDescription(
        'Onboard and operate tenants. Every route but /health and sign-in needs an operator ' +
          'credential (API key or bootstrap token as a bearer, or the console session cookie ' +
          'with X-CSRF-Token on writes) and the role it names.',
      )
      .setVersion('1')
      .addBearerAuth()
      .addCookieAuth('tp_session')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}

/**
 * The job worker (worker.ts, e2e tests): the Bull processors, plus an HTTP server with health
 * and metrics only (call `listen(config.workerPort)`).
 */
export async function createWorker(config: ControlPlaneConfig): Promise<NestExpressApplication> {
  await migratePlatformSchema(config.databaseUrl.reveal(), PLATFORM_MIGRATIONS, (registry) =>
    prepareTenantAccess(registry, config),
  );
  const worker = await NestFactory.create<NestExpressApplication>(WorkerModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  applyHttpDefaults(worker, { bodyLimit: '1kb', ...config.http });
  // Processors start on init, whether or not the caller ever listens.
  await worker.init();
  return worker;
}
