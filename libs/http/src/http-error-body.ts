import { HttpStatus, type HttpException } from '@nestjs/common';
import type { ErrorBody } from './error-body';

/** Nest's own 4xx (validation, 404 route, 413...) in our `{error, message}` shape. */
export function httpErrorBody(exception: HttpException): ErrorBody {
  const payload = exception.getResponse();
  if (typeof payload === 'object' && payload !== null) {
    const { error, message } = payload as { error?: unknown; message?: unknown };
    if (typeof error === 'string' && typeof message === 'string' && 'details' in payload) {
      return payload as ErrorBody;
    }
  }
  const status = exception.getStatus();
  const code = (HttpStatus[status] ?? 'error').toLowerCase();
  return { error: code, message: exception.message };
}
