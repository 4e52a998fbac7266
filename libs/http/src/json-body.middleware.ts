import { isUtf8 } from 'node:buffer';
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

/** Not JSON at all. */
export const MALFORMED_JSON: ErrorBody = {
  error: 'malformed_json',
  message: 'request body is not valid JSON',
};

/**
 * JSON, but not an object: `null`, `42`, `"acme"` or an array. Every body we define is an object;
 * an array would reach the DTO validation as an object with properties `0`, `1`, ... and be
 * refused with a 400 naming those, which says nothing useful. Same code as malformed JSON (the
 * body cannot be read as a request), a message that says what is wrong.
 */
export const NOT_A_JSON_OBJECT: ErrorBody = {
  error: 'malformed_json',
  message: 'request body must be a JSON object',
};

/**
 * Bytes that are not UTF-8 (latin1's `é`, a cut sequence): decoding them leniently turned each
 * into U+FFFD and stored that, silently changing what was sent. JSON is UTF-8 (RFC 8259).
 */
export const NOT_UTF8: ErrorBody = {
  error: 'malformed_json',
  message: 'request body is not valid UTF-8',
};

/** Marks the body-parser failure that the UTF-8 check (its `verify` hook) caused. */
const NOT_UTF8_FAILURE = 'platform.not-utf8';

/** Whether `text` parses as JSON (body-parser's strict mode refuses valid JSON that is no object). */
function isJson(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

interface BodyParserError {
  readonly type?: string;
  /** Set by our verify hook. */
  readonly reason?: string;
  readonly status?: number;
  /** The body as read, on a parse failure. */
  readonly body?: unknown;
}

/**
 * JSON-only body parsing with a size limit, answering malformed or oversized bodies with our
 * JSON error shape (Express would answer them with an HTML page).
 */
export function jsonBodyParser(
  limit: string,
  rawBodyRoutes: readonly RawBodyRoute[] = [],
): RequestHandler {
  const parse = json({
    limit,
    strict: true,
    type: ['application/json', 'application/*+json'],
    verify: (_request, _response, buffer) => {
      if (!isUtf8(buffer))
        throw Object.assign(new Error(NOT_UTF8.message), { reason: NOT_UTF8_FAILURE });
    },
  });
  return (request, response, next) => {
    // Left unread: the route's handler streams it.
    if (isRawBodyRoute(request, rawBodyRoutes)) return next();
    parse(request, response, (error?: unknown) => {
      if (!error) {
        if (Array.isArray(request.body)) {
          response.status(400).json(NOT_A_JSON_OBJECT);
          return;
        }
        if (!nestedDeeperThan(request.body, MAX_JSON_DEPTH)) return next();
        const body: ErrorBody = {
          error: 'body_too_deep',
          message: `request body is nested deeper than ${MAX_JSON_DEPTH} levels`,
        };
        response.status(400).json(body);
        return;
      }
      const { type, status, body: read, reason } = error as BodyParserError;
      const body: ErrorBody =
        reason === NOT_UTF8_FAILURE
          ? NOT_UTF8
          : type === 'entity.too.large'
            ? { error: 'payload_too_large', message: `request body is larger than ${limit}` }
            : type === 'entity.parse.failed'
              ? isJson(read)
                ? NOT_A_JSON_OBJECT
                : MALFORMED_JSON
              : { error: 'unreadable_body', message: 'request body could not be read' };
      // body-parser answers a failed verify with 403; bytes that are not UTF-8 are a bad request.
      const refused = reason !== NOT_UTF8_FAILURE && status && status >= 400 && status < 500;
      response.status(refused ? status : 400).json(body);
    });
  };
}
