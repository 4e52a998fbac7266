import {
  HttpException,
  HttpStatus,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { SSE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { ErrorBody } from './error-body';
import { answerJson, nodeResponseOf, type AnyResponse } from './node-response';

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
      this.arm(context.switchToHttp().getResponse<AnyResponse>());
    }
    return true;
  }

  private arm(response: AnyResponse): void {
    const timer = setTimeout(() => this.expire(response), this.timeoutMs);
    const disarm = () => clearTimeout(timer);
    const node = nodeResponseOf(response);
    node.once('finish', disarm);
    node.once('close', disarm);
  }

  private expire(response: AnyResponse): void {
    const node = nodeResponseOf(response);
    // A handler that began its answer (a stream) cannot be given another status.
    if (node.headersSent || node.writableEnded) return;
    answerJson(
      response,
      HttpStatus.SERVICE_UNAVAILABLE,
      new RequestTimeoutException(this.timeoutMs).body,
    );
    seal(response);
    if (node !== response) seal(node);
  }
}

/** What Express's response, Fastify's reply and Node's response answer with. */
const WRITERS = ['status', 'code', 'json', 'send', 'type', 'header', 'headers', 'setHeader'];

/**
 * After the 503, Nest still hands the handler's late result (or its exception, through the
 * filters) to this response: each write becomes a no-op instead of a "headers already sent"
 * error logged as if the server had failed.
 */
function seal(response: object): void {
  const ignore = () => response;
  const record = response as Record<string, unknown>;
  for (const writer of WRITERS) {
    if (typeof record[writer] === 'function') record[writer] = ignore;
  }
}
