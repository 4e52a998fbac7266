import type { RequestHandler } from 'express';
import type { ErrorBody } from './error-body';

const MAX_DEPTH = 32;

/** The dotted path of the first string that holds a NUL character, or null. */
function findNul(value: unknown, path: string, depth = 0): string | null {
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

/**
 * PostgreSQL text cannot hold U+0000, so a NUL anywhere in a request would surface as a 500 from
 * the driver. Refused here, once, for every route: a 400 naming where it was.
 */
export function rejectNulCharacters(): RequestHandler {
  return (request, response, next) => {
    const field = decodedOrRaw(request.originalUrl).includes('\u0000')
      ? 'url'
      : findNul(request.body, '');
    if (!field) return next();
    const message = `${field} must not contain NUL characters`;
    const body: ErrorBody = {
      error: 'validation_failed',
      message,
      details: [{ field, rule: 'no-nul-character', message }],
    };
    response.status(400).json(body);
  };
}
