import type { IncomingMessage, Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyHttpOptions } from 'fastify';
import type { ErrorBody } from './error-body';
import { Logger } from 'nestjs-pino';
import { answerClientError } from './client-error';
import { useJsonBodies } from './fastify-json-body';
import { answerJson } from './node-response';
import {
  answerUnmetExpectations,
  HTTP_SERVER_OPTIONS,
  refuseMissingHost,
} from './protocol-refusals';
import { jsonBodyParser } from './json-body.middleware';
import { requireJsonBodies, type RawBodyRoute } from './json-only.middleware';
import { rejectUnstorableText } from './unstorable-text.middleware';
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
 * What both apps set on their HTTP server, in one place so they cannot drift apart, whichever
 * adapter serves them (the control plane runs on Express, the data plane on Fastify). Order
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
  app.use(rejectUnstorableText());
  // Fastify takes it as its clientErrorHandler; on Express, Node answered these with no body.
  app.getHttpServer().on('clientError', answerClientError);
  answerUnmetExpectations(app.getHttpServer());
  applyHandlerDefaults(app, defaults);
}

/**
 * The same defaults on Fastify. Its middleware (@fastify/middie) runs before the body is read,
 * so the body's checks (size, JSON, depth, unstorable text) happen in its JSON parser instead, with the same
 * answers; the middleware's text check then only sees the URL.
 */
export function applyFastifyHttpDefaults(
  app: NestFastifyApplication,
  defaults: HttpDefaults,
): void {
  app.useLogger(app.get(Logger));
  app.use(refuseMissingHost());
  app.use(securityHeaders({ trustedProxies: defaults.trustedProxies }));
  // The same options: @fastify/cors calls `origin` as the cors package does.
  type FastifyCors = Parameters<NestFastifyApplication['enableCors']>[0];
  app.enableCors(strictCorsOptions(defaults.corsAllowedOrigins) as FastifyCors);
  app.use(requireJsonBodies(defaults.rawBodyRoutes));
  app.use(rejectUnstorableText());
  const fastify = app.getHttpAdapter().getInstance();
  answerUnmetExpectations(app.getHttpServer());
  useJsonBodies(fastify, defaults.bodyLimit, defaults.rawBodyRoutes);
  applyHandlerDefaults(app, defaults);
}

function applyHandlerDefaults(app: INestApplication, defaults: HttpDefaults): void {
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalGuards(new RequestTimeoutGuard(defaults.requestTimeoutMs));
  applyServerTimeouts(app.getHttpServer() as Server, defaults.requestTimeoutMs);
  app.enableShutdownHooks();
}

export async function listenOn(app: INestApplication, port: number, host: string): Promise<number> {
  await app.listen(port, host);
  const server = app.getHttpServer() as Server;
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** As long as a path parameter may be under Express (a file name, percent-encoded). */
const MAX_PATH_PARAMETER_LENGTH = 2_048;
const PARAMETER_TOO_LONG = `a path segment is longer than ${MAX_PATH_PARAMETER_LENGTH} characters`;

/**
 * Fastify's server options for our apps: routing as lenient as Express's where a client could
 * tell (a trailing slash), and path parameters as long as a file name may be (Fastify answers
 * 404 past 100 characters by default). URLs it cannot decode get our 400, not its own body.
 * `genReqId` names the request for Fastify and for the request logger alike (pino-http keeps
 * the id Fastify's middleware puts on the request).
 */
export function fastifyServerOptions(
  genReqId: (request: IncomingMessage) => string,
): FastifyHttpOptions<Server> {
  return {
    genReqId,
    http: HTTP_SERVER_OPTIONS,
    requestIdHeader: false,
    clientErrorHandler: answerClientError,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    frameworkErrors: (error, _request, reply) => {
      // Fastify's own messages quote the whole URL back (a 3 KB path, 3 KB of answer): ours don't.
      const body: ErrorBody =
        error.code === 'FST_ERR_BAD_URL'
          ? { error: 'malformed_url', message: 'the URL is not validly percent-encoded' }
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? {
                error: 'validation_failed',
                message: PARAMETER_TOO_LONG,
                details: [{ field: 'url', rule: 'maxLength', message: PARAMETER_TOO_LONG }],
              }
            : { error: 'bad_request', message: 'the request could not be routed' };
      // Before routing: no hook would see this answer, so it goes on Node's response directly.
      answerJson(reply.raw, 400, body);
    },
  };
}
