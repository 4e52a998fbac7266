import { HttpException, HttpStatus, type Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { ErrorBody } from './error-body';
import { BodyRejectedException } from './fastify-json-body';
import { httpErrorBody } from './http-error-body';
import { answerJson, nodeResponseOf, type AnyResponse } from './node-response';
import { RequestTimeoutException } from './request-timeout';

/** The id pino-http gave the request (or the caller's X-Request-Id), to quote in a 500. */
function requestIdOf(response: AnyResponse): string | undefined {
  const request = nodeResponseOf(response).req as (IncomingMessage & { id?: unknown }) | undefined;
  const id = request?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

interface FastifyError {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly message?: unknown;
}

/**
 * Fastify refuses some requests itself before any handler (a Content-Length that does not
 * match the body, a body on a method without one...): its errors carry a `FST_` code and the
 * 4xx to answer. They keep that status in our shape; its 5xx stay a bare 500.
 */
function fastifyClientError(exception: unknown): { status: number; body: ErrorBody } | null {
  if (typeof exception !== 'object' || exception === null) return null;
  const { code, statusCode, message } = exception as FastifyError;
  if (typeof code !== 'string' || !code.startsWith('FST_')) return null;
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return null;
  const error = (HttpStatus[statusCode] ?? 'bad_request').toLowerCase();
  return { status: statusCode, body: { error, message: String(message) } };
}

/**
 * What both apps' exception filters do with anything that is not one of their domain
 * exceptions: Nest's own 4xx keep their status in our `{error, message}` shape, and so does our
 * 503 `request_timeout`; everything else — a pg error with its SQL in `detail` and `where`, a
 * TypeError, a 5xx from a library — is logged and answered with a bare 500 that only carries
 * the request id to find the log line by. Never a stack trace, SQL or a library's message.
 */
export function sendNonDomainError(
  exception: unknown,
  response: AnyResponse,
  logger: Logger,
): void {
  const node = nodeResponseOf(response);
  if (
    exception instanceof HttpException &&
    (exception.getStatus() < 500 || exception instanceof RequestTimeoutException)
  ) {
    if (node.headersSent) return;
    const body =
      exception instanceof RequestTimeoutException || exception instanceof BodyRejectedException
        ? exception.body
        : httpErrorBody(exception);
    answerJson(response, exception.getStatus(), body);
    return;
  }
  const clientError = fastifyClientError(exception);
  if (clientError) {
    if (node.headersSent) return;
    answerJson(response, clientError.status, clientError.body);
    return;
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  // A stream that fails after its headers went out cannot change its status: cut it short. (A
  // response already finished, e.g. answered 503 by its deadline, has no socket left to cut.)
  if (node.headersSent) {
    node.destroy();
    return;
  }
  const requestId = requestIdOf(response);
  const body: ErrorBody = {
    error: 'internal_error',
    message: 'Something went wrong',
    ...(requestId ? { requestId } : {}),
  };
  answerJson(response, HttpStatus.INTERNAL_SERVER_ERROR, body);
}
