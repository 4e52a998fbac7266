import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { HttpException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import getRawBody from 'raw-body';
import type { ErrorBody } from './error-body';
import {
  MALFORMED_JSON,
  MAX_JSON_DEPTH,
  NOT_A_JSON_OBJECT,
  NOT_UTF8,
  nestedDeeperThan,
} from './json-body.middleware';
import { isRawBodyRoute, type RawBodyRoute } from './json-only.middleware';
import { findUnstorableText, unstorableTextError } from './unstorable-text.middleware';
import { addRouteHooks } from './route-hooks';

/** A body refused while it was read or parsed: its status and our error body, for the filters. */
export class BodyRejectedException extends HttpException {
  constructor(
    status: number,
    readonly body: ErrorBody,
  ) {
    super(body, status);
  }
}

interface RawBodyError {
  readonly type?: string;
  readonly status?: number;
}

function readError(error: RawBodyError, limit: string): BodyRejectedException {
  if (error.type === 'entity.too.large') {
    return new BodyRejectedException(413, {
      error: 'payload_too_large',
      message: `request body is larger than ${limit}`,
    });
  }
  const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 400;
  return new BodyRejectedException(status, {
    error: 'unreadable_body',
    message: 'request body could not be read',
  });
}

/** The body's text: UTF-8 only, a byte-order mark dropped (as body-parser does). */
function textOf(bytes: Buffer): string {
  if (!isUtf8(bytes)) throw new BodyRejectedException(400, NOT_UTF8);
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The parsed body, or why it is refused: the same checks, in the same order, as under Express. */
function parsedBody(bytes: Buffer): unknown {
  const text = textOf(bytes);
  // body-parser answers an empty JSON body with `{}`; the validation pipe then names what is missing.
  if (text.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BodyRejectedException(400, MALFORMED_JSON);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BodyRejectedException(400, NOT_A_JSON_OBJECT);
  }
  if (nestedDeeperThan(body, MAX_JSON_DEPTH)) {
    throw new BodyRejectedException(400, {
      error: 'body_too_deep',
      message: `request body is nested deeper than ${MAX_JSON_DEPTH} levels`,
    });
  }
  const unstorable = findUnstorableText(body, '');
  if (unstorable) throw new BodyRejectedException(400, unstorableTextError(unstorable));
  return body;
}

/**
 * Fastify's body parsing, made to answer as the Express app does (libs/http's JSON-only rule,
 * size limit, depth, NUL and lone-surrogate checks, and our error bodies, through the exception filters):
 *
 * - JSON (`application/json`, `application/*+json`) is read up to `limit` and parsed here;
 * - a raw-body route (an upload) gets its stream unread, whatever its type, for its handler;
 * - any other type is left unread too: the JSON-only middleware has already refused it with
 *   415 where a body matters (POST, PUT, PATCH), and elsewhere Node discards it.
 *
 * Fastify's own parsers (JSON, text/plain) are removed: they would answer in Fastify's shape.
 */
export function useJsonBodies(
  fastify: FastifyInstance,
  limit: string,
  rawBodyRoutes: readonly RawBodyRoute[] = [],
): void {
  fastify.removeAllContentTypeParsers();
  const parseJson = (request: { raw: IncomingMessage }, payload: IncomingMessage) => {
    if (isRawBodyRoute(request.raw, rawBodyRoutes)) return Promise.resolve(undefined);
    const encoding = payload.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      // Inflating would let a small request become a large body; none of our clients compress.
      return Promise.reject(
        new BodyRejectedException(415, {
          error: 'unsupported_media_type',
          message: 'request body must not be compressed (Content-Encoding)',
        }),
      );
    }
    const declared = payload.headers['content-length'];
    return getRawBody(payload, {
      limit,
      length: declared === undefined ? undefined : Number(declared),
    }).then(parsedBody, (error: RawBodyError) => {
      throw readError(error, limit);
    });
  };
  fastify.addContentTypeParser('application/json', parseJson);
  // Tested against the whole header, parameters (`; charset=...`) included.
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json\s*(?:;|$)/i, parseJson);
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  if (rawBodyRoutes.length > 0) letRawRoutesJudgeTheirType(fastify, rawBodyRoutes);
}

const SENT_CONTENT_TYPE = Symbol('platform.sentContentType');

type StashedRequest = IncomingMessage & { [SENT_CONTENT_TYPE]?: string };

/**
 * Fastify answers a Content-Type it cannot read as a media type (`nonsense`) with its own 415
 * before any handler runs. A raw-body route judges its type itself (an upload refuses it with a
 * 400 naming the rule), so Fastify is shown no type for it while it picks a parser, and the
 * handler gets the header back as sent. Hooked on the routes of the raw-body routes' methods
 * only (a PUT), not on every GET.
 */
function letRawRoutesJudgeTheirType(
  fastify: FastifyInstance,
  rawBodyRoutes: readonly RawBodyRoute[],
): void {
  const methods = new Set(rawBodyRoutes.map((route) => route.method));
  addRouteHooks(fastify, (method) => methods.has(method), {
    preParsing: (request, _reply, payload, done) => {
      const raw = request.raw as StashedRequest;
      const sent = raw.headers['content-type'];
      if (sent !== undefined && isRawBodyRoute(raw, rawBodyRoutes)) {
        raw[SENT_CONTENT_TYPE] = sent;
        delete raw.headers['content-type'];
      }
      done(null, payload);
    },
    preValidation: (request, _reply, done) => {
      const raw = request.raw as StashedRequest;
      const sent = raw[SENT_CONTENT_TYPE];
      if (sent !== undefined) raw.headers['content-type'] = sent;
      done();
    },
  });
}
