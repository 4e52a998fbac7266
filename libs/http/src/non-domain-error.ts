import { HttpException, HttpStatus, type Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ErrorBody } from './error-body';
import { httpErrorBody } from './http-error-body';
import { RequestTimeoutException } from './request-timeout';

/** The id pino-http gave the request (or the caller's X-Request-Id), to quote in a 500. */
function requestIdOf(response: Response): string | undefined {
  const id = (response.req as Request | undefined)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * What both apps' exception filters do with anything that is not one of their domain
 * exceptions: Nest's own 4xx keep their status in our `{error, message}` shape, and so does our
 * 503 `request_timeout`; everything else — a pg error with its SQL in `detail` and `where`, a
 * TypeError, a 5xx from a library — is logged and answered with a bare 500 that only carries
 * the request id to find the log line by. Never a stack trace, SQL or a library's message.
 */
export function sendNonDomainError(exception: unknown, response: Response, logger: Logger): void {
  if (
    exception instanceof HttpException &&
    (exception.getStatus() < 500 || exception instanceof RequestTimeoutException)
  ) {
    if (response.headersSent) return;
    const body =
      exception instanceof RequestTimeoutException ? exception.body : httpErrorBody(exception);
    response.status(exception.getStatus()).json(body);
    return;
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  // A stream that fails after its headers went out cannot change its status: cut it short. (A
  // response already finished, e.g. answered 503 by its deadline, has no socket left to cut.)
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const requestId = requestIdOf(response);
  const body: ErrorBody = {
    error: 'internal_error',
    message: 'Something went wrong',
    ...(requestId ? { requestId } : {}),
  };
  response.status(HttpStatus.INTERNAL_SERVER_ERROR).json(body);
}
