import { HttpException, HttpStatus, type Logger } from '@nestjs/common';
import type { Response } from 'express';
import type { ErrorBody } from './error-body';
import { httpErrorBody } from './http-error-body';

/**
 * What both apps' exception filters do with anything that is not one of their domain
 * exceptions: Nest's own 4xx keep their status in our `{error, message}` shape; everything else
 * is logged and answered with a bare 500 — never a stack trace or SQL in a response.
 */
export function sendNonDomainError(exception: unknown, response: Response, logger: Logger): void {
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    response.status(exception.getStatus()).json(httpErrorBody(exception));
    return;
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  const body: ErrorBody = { error: 'internal_error', message: 'Something went wrong' };
  response.status(HttpStatus.INTERNAL_SERVER_ERROR).json(body);
}
