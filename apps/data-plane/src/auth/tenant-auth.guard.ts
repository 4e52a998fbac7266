import type { IncomingMessage } from 'node:http';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { nodeRequestOf } from '@platform/http';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { AccessTokenService } from './access-token.service';
import { requestUser } from './request-user';
import type { AuthenticatedRequest, TenantUser } from './tenant-user';

@Injectable()
export class TenantAuthGuard implements CanActivate {
  constructor(private readonly tokens: AccessTokenService) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & (IncomingMessage | { raw: IncomingMessage })>();
    const user = requestUser(nodeRequestOf(request), this.tokens);
    // Synchronous once the tenant's keys are cached; a promise only on the first request.
    return user instanceof Promise ? user.then((u) => admit(request, u)) : admit(request, user);
  }
}

function admit(request: AuthenticatedRequest, user: TenantUser | null): boolean {
  if (!user) {
    throw new DataPlaneException(
      DataPlaneErrorCode.Unauthenticated,
      'A valid access token for this tenant is required',
    );
  }
  request.user = user;
  return true;
}
