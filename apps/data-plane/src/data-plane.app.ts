import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { DataPlaneConfig } from '@platform/config';
import {
  addRouteHooks,
  applyFastifyHttpDefaults,
  fastifyServerOptions,
  type RawBodyRoute,
} from '@platform/http';
import { requestIdFor } from '@platform/observability';
import { DataPlaneModule } from './app.module';
import { RateLimitGate } from './rate-limits/rate-limit.gate';
import { judgedAfterBody, TenantConcurrencyGate } from './rate-limits/tenant-concurrency.gate';

/**
 * The only data-plane routes whose body is not JSON: exempt from the JSON-only rule (415) and
 * from JSON parsing, their handlers read the raw stream and check its type themselves. Every
 * other POST/PUT/PATCH body must be application/json.
 */
export const DATA_PLANE_RAW_BODY_ROUTES: readonly RawBodyRoute[] = [
  // File upload (files/): the file's bytes, under the tenant's storage quota.
  // A trailing slash is ignored by the routes, so here too (it was refused as not JSON: 415).
  { method: 'PUT', path: /^\/api\/files\/[^/]+\/?$/ },
];

/**
 * Builds the data plane (used by main.ts, the e2e tests and the benchmark alike). It does not
 * migrate the registry: the control plane and worker do, and the data plane may sit behind
 * PgBouncer in transaction mode, where a migration's session lock would mean nothing.
 */
export async function createDataPlaneApp(config: DataPlaneConfig): Promise<NestFastifyApplication> {
  // Fastify, not Express: the same stack costs a request a third of the server CPU on it
  // (bench/framework-floor). The control plane stays on Express; libs/http serves both.
  const app = await NestFactory.create<NestFastifyApplication>(
    DataPlaneModule.forRoot(config),
    new FastifyAdapter(fastifyServerOptions(requestIdFor)),
    { bufferLogs: true, bodyParser: false },
  );
  applyFastifyHttpDefaults(app, {
    bodyLimit: config.bodyLimit,
    ...config.http,
    rawBodyRoutes: DATA_PLANE_RAW_BODY_ROUTES,
    trustedProxies: config.trustedProxies,
  });
  // Ahead of Nest's middleware: a tenant already over its rate limit is refused at the door.
  app.use(app.get(RateLimitGate).handle);
  // Then each tenant's requests in progress are capped, the rest wait in the tenant's own line;
  // a request with a body only once its body has been read.
  const concurrency = app.get(TenantConcurrencyGate);
  app.use(concurrency.handle);
  judgeAfterBody(app, concurrency);
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

/**
 * The concurrency gate's second door, as a preHandler hook on the routes of the methods it
 * judges after the body (judgedAfterBody) only: on a GET it would be one more step for nothing.
 * Registered before Nest adds its routes (at init), so every route passes through here.
 */
function judgeAfterBody(app: NestFastifyApplication, concurrency: TenantConcurrencyGate): void {
  addRouteHooks(app.getHttpAdapter().getInstance(), judgedAfterBody, {
    preHandler: (request, reply, done) =>
      concurrency.afterBody(request.raw, reply.raw, (error) =>
        done(error instanceof Error ? error : undefined),
      ),
  });
}
