import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { PUBLIC_ROUTE } from '@platform/http';

export interface OperatorRequest extends Request {
  operator?: { id: string };
}

/**
 * Every control-plane route but health needs `Authorization: Bearer <PLATFORM_ADMIN_TOKEN>`.
 * Compared as fixed-length digests in constant time, so neither length nor prefix leaks.
 */
@Injectable()
export class BootstrapTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONTROL_PLANE_CONFIG) config: ControlPlaneConfig,
  ) {
    this.expected = digest(config.adminToken.reveal());
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<OperatorRequest>();
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]), this.expected)) {
      throw new UnauthorizedException({
        error: 'unauthenticated',
        message: 'Send the operator credential as Authorization: Bearer <token>',
        details: [],
      });
    }
    request.operator = { id: 'bootstrap-admin' };
    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
