import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { jsonBodyParser } from './json-body.middleware';
import { requireJsonBodies, type RawBodyRoute } from './json-only.middleware';
import { rejectNulCharacters } from './nul-character.middleware';
import { RequestTimeoutGuard } from './request-timeout';
import { securityHeaders } from './security-headers.middleware';
import { applyServerTimeouts } from './server-timeouts';
import { strictCorsOptions } from './strict-cors.options';
import { strictValidationPipe } from './validation.pipe';

export interface HttpDefaults {
  /** Largest JSON body accepted (`64kb`); larger ones get 413. */
  readonly bodyLimit: string;
  /** REQUEST_TIMEOUT_MS: handler deadline (503) and the server's header/request timeouts (408). */
  readonly requestTimeoutMs: number;
  /** CORS_ALLOWED_ORIGINS: exact origins; empty means no cross-origin access. */
  readonly corsAllowedOrigins: readonly string[];
  /** Routes whose body is not JSON (uploads): no 415, no JSON parsing. */
  readonly rawBodyRoutes?: readonly RawBodyRoute[];
  /** Peers believed about `X-Forwarded-Proto` (for HSTS). */
  readonly trustedProxies?: readonly string[];
}

/**
 * What both apps set on their HTTP server, in one place so they cannot drift apart. Order
 * matters: headers and CORS first (every answer carries them, refusals included), then the
 * media-type check, then parsing, then what inspects the parsed body.
 */
export function applyHttpDefaults(app: NestExpressApplication, defaults: HttpDefaults): void {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // Forwarded headers are judged by the apps themselves against their trusted-proxy list.
  app.set('trust proxy', false);
  app.use(securityHeaders({ trustedProxies: defaults.trustedProxies }));
  app.enableCors(strictCorsOptions(defaults.corsAllowedOrigins));
  app.use(requireJsonBodies(defaults.rawBodyRoutes));
  app.use(jsonBodyParser(defaults.bodyLimit, defaults.rawBodyRoutes));
  app.use(rejectNulCharacters());
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalGuards(new RequestTimeoutGuard(defaults.requestTimeoutMs));
  applyServerTimeouts(app.getHttpServer(), defaults.requestTimeoutMs);
  app.enableShutdownHooks();
}

export async function listenOn(app: INestApplication, port: number, host: string): Promise<number> {
  await app.listen(port, host);
  const server = app.getHttpServer() as Server;
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
