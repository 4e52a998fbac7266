import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { levels } from 'pino';
import { TenantContext } from '@platform/tenancy';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;

/** What a request's logger carries (pino-http's `req` binding); other loggers carry no `req`. */
interface Bindings {
  readonly req?: { readonly id?: unknown };
}

/**
 * A request's id: the caller's `X-Request-Id` when it looks like one (a proxy's or a client's,
 * so one id follows the request across services), a new UUID otherwise; anything else could
 * forge log lines. pino-http takes it from here, and under Fastify so does Fastify (pino-http
 * keeps an id already on the request, and Fastify's middleware puts Fastify's there).
 */
export function requestIdFor(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
}

/** Whether a logger at `level` writes the `info` line that closes every request. */
export function writesRequestLines(level: string): boolean {
  const value = levels.values[level];
  return value !== undefined && value <= levels.values.info;
}

/**
 * JSON logs; every line carries the request id and, when one is set, the tenant id (read from
 * the tenant context, so no caller has to remember to add it). Credentials are redacted.
 */
export function loggingOptions(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      name: service,
      genReqId: requestIdFor,
      // The request id is read back from the request's logger (pino-http binds `req` to it)
      // only when a line is written. Bound instead as its own child logger (`customProps`), it
      // cost every request ~15 µs, written lines or not: most of pino-http's share of the CPU.
      mixin: (_line: object, _level: number, logger: { bindings(): Bindings }) => {
        const requestId = logger.bindings().req?.id;
        const tenant = TenantContext.currentOrNull();
        return {
          ...(requestId === undefined ? {} : { requestId }),
          ...(tenant ? { tenantId: tenant.id } : {}),
        };
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      // Off when the level would drop the line anyway: pino-http otherwise still listens for
      // every response's end and builds the line's fields (2-3 % of a data plane's CPU).
      autoLogging: writesRequestLines(level)
        ? {
            ignore: (request: IncomingMessage & { originalUrl?: string }) => {
              // Fastify's middleware may see `url` cut to what follows its mount path.
              const url = request.originalUrl ?? request.url ?? '';
              return url === '/metrics' || url.startsWith('/health');
            },
          }
        : false,
    },
  };
}
