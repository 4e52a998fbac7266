import {
  HttpException,
  HttpStatus,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { SSE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { throwError, timeout, type Observable } from 'rxjs';
import type { ErrorBody } from './error-body';

const NO_REQUEST_TIMEOUT = 'platform:no-request-timeout';

/**
 * Exempts a handler (or a controller) from REQUEST_TIMEOUT_MS: streams that stay open on
 * purpose, uploads whose length is the client's business, and handlers that write to `@Res()`
 * themselves (their late write could not be dropped). Server-sent events (`@Sse`) are exempt
 * without it. The server's own header and body timeouts still apply.
 */
export const NoRequestTimeout = (): ClassDecorator & MethodDecorator =>
  SetMetadata(NO_REQUEST_TIMEOUT, true);

/** 503 `request_timeout`: the client may retry; the work it started may still finish. */
export class RequestTimeoutException extends HttpException {
  readonly body: ErrorBody;

  constructor(timeoutMs: number) {
    const body: ErrorBody = {
      error: 'request_timeout',
      message: `the request was not answered within ${timeoutMs} ms`,
    };
    super(body, HttpStatus.SERVICE_UNAVAILABLE);
    this.body = body;
  }
}

/**
 * A handler that has not produced its answer within the limit is answered 503 instead, so a
 * stuck dependency costs each client a bounded wait (and each connection a bounded hold). The
 * handler's promise is not cancelled — the database's statement timeout ends its query — but
 * its late result is dropped, never written over the 503.
 */
export class RequestTimeoutInterceptor implements NestInterceptor {
  private readonly reflector = new Reflector();

  constructor(private readonly timeoutMs: number) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const targets = [context.getHandler(), context.getClass()];
    if (
      context.getType() !== 'http' ||
      this.reflector.getAllAndOverride<boolean>(SSE_METADATA, targets) ||
      this.reflector.getAllAndOverride<boolean>(NO_REQUEST_TIMEOUT, targets)
    ) {
      return next.handle();
    }
    return next.handle().pipe(
      timeout({
        first: this.timeoutMs,
        with: () => throwError(() => new RequestTimeoutException(this.timeoutMs)),
      }),
    );
  }
}
