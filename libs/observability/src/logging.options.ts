import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { TenantContext } from '@platform/tenancy';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * JSON logs; every line carries the request id and, when one is set, the tenant id (read from
 * the tenant context, so no caller has to remember to add it). Credentials are redacted.
 */
export function loggingOptions(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      name: service,
      // An upstream id is kept only when it looks like one; anything else could forge log lines.
      genReqId: (request: IncomingMessage) => {
        const header = request.headers['x-request-id'];
        return typeof header === 'string' && REQUEST_ID_PATTERN.test(header)
          ? header
          : randomUUID();
      },
      mixin: () => {
        const tenant = TenantContext.currentOrNull();
        return tenant ? { tenantId: tenant.id } : {};
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      autoLogging: {
        ignore: (request: IncomingMessage) =>
          request.url === '/metrics' || (request.url ?? '').startsWith('/health'),
      },
      customProps: (request: IncomingMessage) => ({ requestId: request.id }),
    },
  };
}
