import { QuotaExceededError, type QuotaName } from '@platform/tenancy';
import type { TenantTransaction } from './tenant-transaction';

/**
 * Inside a tenant transaction: waits for the tenant's lock on `quota`, measures the usage with
 * `usageSql` (one row, one column `used`; a bigint as text will do) and throws
 * QuotaExceededError unless `requested` more still fits under `limit`. Returns the usage.
 *
 * Why a lock: under READ COMMITTED two transactions that each count 49 of 50 projects both
 * insert, and the tenant ends with 51. A transaction-level advisory lock per tenant and quota
 * serialises only the writes that compete for the same quota; it is released by COMMIT or
 * ROLLBACK, so nothing can leak it, and it works behind PgBouncer in transaction mode. The usage
 * query must be a separate statement after the lock: a statement's snapshot is taken when it
 * starts, so a count in the same statement as the lock would not see the row the previous
 * holder committed.
 */
export async function checkTenantQuota(
  tx: TenantTransaction,
  quota: QuotaName,
  limit: number,
  usageSql: string,
  usageParams: unknown[] = [],
  requested = 1,
): Promise<number> {
  await lockTenantQuota(tx, quota);
  const [row] = await tx.query<{ used: string | number }>(usageSql, usageParams);
  const used = Number(row?.used ?? 0);
  if (used + requested > limit) throw new QuotaExceededError(quota, limit, used, requested);
  return used;
}

/** The same per-tenant, per-quota lock, for writes that change usage without adding to it. */
export async function lockTenantQuota(tx: TenantTransaction, quota: QuotaName): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    `quota:${tx.tenant.id}:${quota}`,
  ]);
}
