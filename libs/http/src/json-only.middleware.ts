import type { IncomingMessage } from 'node:http';
import type { ErrorBody } from './error-body';
import { answerJson, type NodeMiddleware } from './node-response';

/**
 * A route that takes its body as raw bytes rather than JSON (an upload). It is exempt from the
 * JSON-only rule and from JSON parsing; its handler reads the stream and checks the type itself.
 */
export interface RawBodyRoute {
  readonly method: string;
  /** Matched against the path without the query string. */
  readonly path: RegExp;
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/** A body is announced by a non-zero length or by chunked transfer (RFC 9112 §6.3). */
function hasBody(request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(request.headers['content-length'] ?? 0);
  return !Number.isFinite(length) || length > 0;
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function isRawBodyRoute(request: IncomingMessage, routes: readonly RawBodyRoute[]): boolean {
  if (routes.length === 0) return false;
  const path = pathOf(request.url ?? '');
  return routes.some((route) => route.method === request.method && route.path.test(path));
}

/**
 * Every POST/PUT/PATCH body must be JSON (`application/json` or a `+json` type): anything else
 * is a 415 before any parser or handler sees it. Besides clear errors, this closes the
 * "simple request" door: a cross-site form or `text/plain` fetch can reach us without a CORS
 * preflight, but never with a body we would act on.
 */
export function requireJsonBodies(rawBodyRoutes: readonly RawBodyRoute[] = []): NodeMiddleware {
  return (request, response, next) => {
    if (!METHODS_WITH_BODY.has(request.method ?? '') || !hasBody(request)) return next();
    if (isRawBodyRoute(request, rawBodyRoutes)) return next();
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim();
    if (JSON_TYPE.test(mediaType)) return next();
    const body: ErrorBody = {
      error: 'unsupported_media_type',
      message: `request body must be application/json (got ${
        mediaType ? JSON.stringify(mediaType.slice(0, 100)) : 'no Content-Type'
      })`,
    };
    answerJson(response, 415, body);
  };
}
