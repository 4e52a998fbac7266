import type { IncomingHttpHeaders } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** The signed-in user of the current tenant, as the access token says. */
export interface TenantUser {
  readonly id: string;
  readonly role: 'admin' | 'member' | 'viewer';
}

/** The request object the guard and the handler share (Fastify's, or Express's). */
export interface AuthenticatedRequest {
  readonly headers: IncomingHttpHeaders;
  user?: TenantUser;
}

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new Error('CurrentUser used on a route without TenantAuthGuard');
  return user;
});
