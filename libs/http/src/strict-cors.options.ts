import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';

/** Headers a permitted page may read: what it needs to back off and to report a problem. */
const EXPOSED_HEADERS = [
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'X-Request-Id',
];

/**
 * CORS for both apps: a browser page may call us only from an origin listed exactly in
 * CORS_ALLOWED_ORIGINS (empty by default: no cross-origin access at all). Other origins, `null`
 * included, get no `Access-Control-Allow-Origin`, so the browser keeps the answer from the page.
 * No credentials: the console's session cookie is for the console's own origin only; a
 * permitted page authenticates with a bearer token.
 */
export function strictCorsOptions(allowedOrigins: readonly string[]): CorsOptions {
  const allowed = new Set(allowedOrigins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  };
}
