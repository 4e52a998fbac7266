import { createHash } from 'node:crypto';

/** The predecessor of the first entry. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * An entry's fields as the chain hashes them: bigint and uuid as text, jsonb as PostgreSQL's
 * jsonb text output (`details::text`), created_at as the instant (milliseconds: the trigger
 * truncates it, so nothing is lost).
 */
export interface ChainedFields {
  readonly id: string;
  readonly createdAt: Date;
  readonly source: string | null;
  readonly actor: string;
  readonly operatorId: string | null;
  readonly action: string;
  readonly tenantId: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly beforeText: string | null;
  readonly afterText: string | null;
  readonly detailsText: string;
  readonly prevHash: string;
}

/**
 * SHA-256 (hex) over the canonical form "audit-v1": each field in a fixed order as `-` (NULL)
 * or `<UTF-8 byte length>:<text>`. The database computes the same in
 * `platform.audit_entry_hash` (migrations/1763920000000-audit-chain.migration.ts); this is an
 * independent implementation on purpose, so verification does not trust SQL the attacker may
 * have rewritten. Change neither without a new version tag.
 */
export function auditEntryHash(entry: ChainedFields): string {
  const fields = [
    entry.id,
    entry.createdAt.toISOString(),
    entry.source,
    entry.actor,
    entry.operatorId,
    entry.action,
    entry.tenantId,
    entry.requestId,
    entry.ip,
    entry.userAgent,
    entry.beforeText,
    entry.afterText,
    entry.detailsText,
    entry.prevHash,
  ];
  const canonical = 'audit-v1' + fields.map(lengthPrefixed).join('');
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

function lengthPrefixed(value: string | null): string {
  return value === null ? '-' : `${Buffer.byteLength(value, 'utf8')}:${value}`;
}
