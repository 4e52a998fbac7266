import { randomBytes } from 'node:crypto';
import type { TenantDomainEntity } from '../tenants/tenant-domain.entity';

/** A new custom domain row: pending, with a fresh ownership token and a verification window. */
export function newCustomDomain(
  tenantId: string,
  hostname: string,
  verifyUntil: Date,
): Partial<TenantDomainEntity> {
  return {
    tenantId,
    hostname,
    kind: 'custom',
    status: 'pending_verification',
    verificationToken: `platform-verify=${randomBytes(18).toString('base64url')}`,
    verifyUntil,
  };
}
