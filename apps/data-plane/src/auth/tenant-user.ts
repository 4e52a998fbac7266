import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** The signed-in user of the current tenant, as the access token says. */
export interface TenantUser {
  readonly id: string;
  readonly role: 'admin' | 'member' | 'viewer';
}

export interface AuthenticatedRequest extends Request {
  user?: TenantUser;
}

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new Error('CurrentUser used on a route without TenantAuthGuard');
  return user;
});
