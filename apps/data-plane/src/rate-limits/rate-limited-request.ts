import type { Request } from 'express';
import type { ResolvedTenant } from '@platform/tenancy';

export interface RateLimitedRequest extends Request {
  tenant?: ResolvedTenant;
}
