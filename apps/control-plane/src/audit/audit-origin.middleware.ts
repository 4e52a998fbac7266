import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AuditOrigins } from './audit-origin';

/** What this reads of a request (besides pino-http's `id`), once the auth guard has run. */
interface AuditedRequest extends Request {
  /** Set by the auth guard: the operator's id (`bootstrap-admin` for the bootstrap token). */
  operator?: { id: string };
  /** Set by the auth guard: who is calling, as the audit log names it. */
  principal?: { actor: string };
}

const USER_AGENT_MAX = 512;

/**
 * Sets the audit origin once per API request: the peer's address and user agent now, the
 * request id (pino-http's) and the authenticated operator when an entry is written.
 *
 * The address is the TCP peer's. The control plane does not trust X-Forwarded-For (it has no
 * trusted-proxy list, and `trust proxy` is off), so behind a proxy this records the proxy.
 */
@Injectable()
export class AuditOriginMiddleware implements NestMiddleware {
  use(request: AuditedRequest, _response: Response, next: NextFunction): void {
    const userAgent = request.headers['user-agent'];
    AuditOrigins.run(
      {
        source: 'api',
        ip: peerAddress(request.socket.remoteAddress),
        userAgent: userAgent ? userAgent.slice(0, USER_AGENT_MAX) : null,
        requestId: () => (typeof request.id === 'string' ? request.id : null),
        operatorId: () => request.operator?.id ?? null,
        actor: () => request.principal?.actor ?? null,
      },
      next,
    );
  }
}

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) is recorded as `127.0.0.1`. */
export function peerAddress(address: string | undefined): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
