import type { Request } from 'express';
import type { ResolvedTenant } from '@platform/tenancy';

/** Set by the middleware when the decision waits for TenantAuthGuard (see the interceptor). */
export const DECIDE_AFTER_AUTH = Symbol('rate-limit: decide after authentication');

export interface RateLimitedRequest extends Request {
  tenant?: ResolvedTenant;
  /** Set by TenantAuthGuard on routes that require a signed-in user. */
  user?: { readonly id: string };
  [DECIDE_AFTER_AUTH]?: ResolvedTenant;
}
