import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { DataPlaneConfig } from '@platform/config';
import { applyHttpDefaults } from '@platform/http';
import { DataPlaneModule } from './app.module';

/**
 * Builds the data plane (used by main.ts, the e2e tests and the benchmark alike). It does not
 * migrate the registry: the control plane and worker do, and the data plane may sit behind
 * PgBouncer in transaction mode, where a migration's session lock would mean nothing.
 */
export async function createDataPlaneApp(config: DataPlaneConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(DataPlaneModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  applyHttpDefaults(app, config.bodyLimit);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tenancy data plane')
      .setDescription('Tenant-facing API, served on <slug>.<platform domain> and custom domains')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}
