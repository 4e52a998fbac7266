import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { DataPlaneConfig } from '@platform/config';
import { migratePlatformSchema } from '@platform/database';
import { applyHttpDefaults } from '@platform/http';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import { DataPlaneModule } from './app.module';

/** Builds the data plane (used by main.ts, the e2e tests and the benchmark alike). */
export async function createDataPlaneApp(config: DataPlaneConfig): Promise<NestExpressApplication> {
  await migratePlatformSchema(config.databaseUrl.reveal(), PLATFORM_MIGRATIONS);
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
