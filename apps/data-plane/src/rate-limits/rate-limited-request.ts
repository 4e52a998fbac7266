import type { IncomingMessage } from 'node:http';
import type { ResolvedTenant } from '@platform/tenancy';

export interface RateLimitedRequest extends IncomingMessage {
  tenant?: ResolvedTenant;
}
