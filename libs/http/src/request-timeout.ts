import {
  HttpException,
  HttpStatus,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { SSE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import type { ErrorBody } from './error-body';

const NO_REQUEST_TIMEOUT = 'platform:no-request-timeout';

/**
 * Exempts a handler (or a controller) from REQUEST_TIMEOUT_MS: streams that stay open on
 * purpose, uploads whose length is the client's business, and handlers that stream into
 * `@Res()` themselves (`write`/`pipe` after a 503 could not be dropped). Server-sent events
 * (`@Sse`) are exempt without it. The server's own header and body timeouts still apply.
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
 * its late result or error is dropped, never written over the 503.
 *
 * A global guard, not an interceptor: guards run on every route anyway and see the handler's
 * metadata, while a global interceptor makes Nest wrap every request in an rxjs chain and two
 * async-context bindings, ~6 % of a request's CPU in `npm run bench`'s profiles. The deadline
 * starts when the guards do (after middleware, before authentication).
 */
export class RequestTimeoutGuard implements CanActivate {
  private readonly reflector = new Reflector();

  constructor(private readonly timeoutMs: number) {}

  canActivate(context: ExecutionContext): true {
    const targets = [context.getHandler(), context.getClass()];
    if (
      context.getType() === 'http' &&
      !this.reflector.getAllAndOverride<boolean>(SSE_METADATA, targets) &&
      !this.reflector.getAllAndOverride<boolean>(NO_REQUEST_TIMEOUT, targets)
    ) {
      this.arm(context.switchToHttp().getResponse<Response>());
    }
    return true;
  }

  private arm(response: Response): void {
    const timer = setTimeout(() => this.expire(response), this.timeoutMs);
    const disarm = () => clearTimeout(timer);
    response.once('finish', disarm);
    response.once('close', disarm);
  }

  private expire(response: Response): void {
    // A handler that began its answer (a stream) cannot be given another status.
    if (response.headersSent || response.writableEnded) return;
    response
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .json(new RequestTimeoutException(this.timeoutMs).body);
    seal(response);
  }
}

/**
 * After the 503, Nest still hands the handler's late result (or its exception, through the
 * filters) to this response: each write becomes a no-op instead of a "headers already sent"
 * error logged as if the server had failed.
 */
function seal(response: Response): void {
  const ignore = () => response;
  Object.assign(response, {
    status: ignore,
    json: ignore,
    send: ignore,
    setHeader: ignore,
  });
}
