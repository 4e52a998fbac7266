import { json, type RequestHandler } from 'express';
import type { ErrorBody } from './error-body';
import { isRawBodyRoute, type RawBodyRoute } from './json-only.middleware';

/**
 * Deeper than any body we define: class-transformer and class-validator recurse per level, and
 * a body of 20,000 nested arrays (40 KB, well under the size limit) overflowed the stack — a
 * 500 for anyone who sent one. Refused right after parsing instead.
 */
export const MAX_JSON_DEPTH = 32;

/** Iterative on purpose: a recursive walk would overflow on the very bodies it looks for. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

interface BodyParserError {
  readonly type?: string;
  readonly status?: number;
}

/**
 * JSON-only body parsing with a size limit, answering malformed or oversized bodies with our
 * JSON error shape (Express would answer them with an HTML page).
 */
export function jsonBodyParser(
  limit: string,
  rawBodyRoutes: readonly RawBodyRoute[] = [],
): RequestHandler {
  const parse = json({ limit, strict: true, type: ['application/json', 'application/*+json'] });
  return (request, response, next) => {
    // Left unread: the route's handler streams it.
    if (isRawBodyRoute(request, rawBodyRoutes)) return next();
    parse(request, response, (error?: unknown) => {
      if (!error) {
        if (!nestedDeeperThan(request.body, MAX_JSON_DEPTH)) return next();
        const body: ErrorBody = {
          error: 'body_too_deep',
          message: `request body is nested deeper than ${MAX_JSON_DEPTH} levels`,
        };
        response.status(400).json(body);
        return;
      }
      const { type, status } = error as BodyParserError;
      const body: ErrorBody =
        type === 'entity.too.large'
          ? { error: 'payload_too_large', message: `request body is larger than ${limit}` }
          : type === 'entity.parse.failed'
            ? { error: 'malformed_json', message: 'request body is not valid JSON' }
            : { error: 'unreadable_body', message: 'request body could not be read' };
      response.status(status && status >= 400 && status < 500 ? status : 400).json(body);
    });
  };
}
