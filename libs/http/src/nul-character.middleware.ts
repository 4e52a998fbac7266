import type { IncomingMessage } from 'node:http';
import type { ErrorBody } from './error-body';
import { answerJson, type NodeMiddleware } from './node-response';

const MAX_DEPTH = 32;

/** The dotted path of the first string that holds a NUL character, or null. */
export function findNul(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'body' : null;
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('\u0000')) return path ? `${path}.<key>` : '<key>';
    const found = findNul(child, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return null;
}

function decodedOrRaw(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

/** The 400 for a NUL found at `field`. */
export function nulCharacterError(field: string): ErrorBody {
  const message = `${field} must not contain NUL characters`;
  return {
    error: 'validation_failed',
    message,
    details: [{ field, rule: 'no-nul-character', message }],
  };
}

/** Express keeps the URL as sent in `originalUrl`; Node's (and Fastify's middleware's) `url`. */
function urlOf(request: IncomingMessage & { originalUrl?: string }): string {
  return request.originalUrl ?? request.url ?? '';
}

/**
 * PostgreSQL text cannot hold U+0000, so a NUL anywhere in a request would surface as a 500 from
 * the driver. Refused here, once, for every route: a 400 naming where it was. Under Express it
 * runs after the body parser and looks at the body too; under Fastify the body is parsed after
 * middleware, so its JSON parser (fastify-json-body.ts) looks at the body itself.
 */
export function rejectNulCharacters(): NodeMiddleware {
  return (request, response, next) => {
    const field = decodedOrRaw(urlOf(request)).includes('\u0000')
      ? 'url'
      : findNul((request as { body?: unknown }).body, '');
    if (!field) return next();
    answerJson(response, 400, nulCharacterError(field));
  };
}
