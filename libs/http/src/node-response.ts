import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What a middleware's `next` is given: nothing to go on, an error to fail the request with.
 * The same under Express and under Fastify's middleware (@fastify/middie), where middleware gets
 * Node's own request and response.
 */
export type NextFunction = (error?: unknown) => void;

/** A Connect-style middleware on Node's own request and response: runs under either adapter. */
export type NodeMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: NextFunction,
) => void;

/** Fastify's reply: what its handlers, guards and exception filters are given. */
interface FastifyLikeReply {
  readonly raw: ServerResponse;
  code(status: number): FastifyLikeReply;
  type(contentType: string): FastifyLikeReply;
  send(payload: string): FastifyLikeReply;
}

/**
 * The response of either adapter (Express's is Node's own, extended; Fastify hands filters and
 * guards its reply, and middleware Node's own), so that code shared by both apps never needs
 * to know which one it runs under.
 */
export type AnyResponse = ServerResponse | FastifyLikeReply;

function isFastifyReply(response: AnyResponse): response is FastifyLikeReply {
  return 'raw' in response && typeof response.code === 'function';
}

export function nodeResponseOf(response: AnyResponse): ServerResponse {
  return isFastifyReply(response) ? response.raw : response;
}

/** Node's request under either adapter's request object (Fastify's keeps it as `raw`). */
export function nodeRequestOf<T extends IncomingMessage = IncomingMessage>(
  request: T | { readonly raw: T },
): T {
  return 'raw' in request && request.raw ? request.raw : (request as T);
}

/**
 * Answers with a JSON body. Through Fastify's reply when there is one, so that its response
 * hooks (metrics, the request log) still see the answer; otherwise on Node's response
 * directly, which is what Express's `res.json` amounts to.
 */
export function answerJson(response: AnyResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  if (isFastifyReply(response)) {
    response.code(status).type('application/json; charset=utf-8').send(payload);
    return;
  }
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(payload));
  response.end(payload);
}
