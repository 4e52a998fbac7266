import { AUDIT_GENESIS_HASH, auditEntryHash, type ChainedFields } from '../audit-chain';

/**
 * Vectors computed by PostgreSQL's `platform.audit_entry_hash` (the audit-chain migration): the
 * Node implementation that verifies the chain must agree with the trigger that writes it.
 */
const SUSPEND: ChainedFields = {
  id: '42',
  createdAt: new Date('2025-11-23T10:00:00.123Z'),
  source: 'api',
  actor: 'operator:zoë@example.com',
  operatorId: '3f1c2a9e-0000-4000-8000-000000000001',
  action: 'tenant.suspend',
  tenantId: '8d7e6f5a-1111-4222-8333-444455556666',
  requestId: 'req-12345678',
  ip: '127.0.0.1',
  userAgent: 'Mozilla/5.0 ✓',
  beforeText: '{"status": "active"}',
  afterText: '{"status": "suspended"}',
  detailsText: '{"to": "suspended", "from": "active"}',
  prevHash: 'ab'.repeat(32),
};

const SPARSE: ChainedFields = {
  id: '1',
  createdAt: new Date('2025-01-01T00:00:00Z'),
  source: null,
  actor: 'cli',
  operatorId: null,
  action: 'migration-run.create',
  tenantId: null,
  requestId: null,
  ip: null,
  userAgent: null,
  beforeText: null,
  afterText: null,
  detailsText: '{}',
  prevHash: AUDIT_GENESIS_HASH,
};

describe('auditEntryHash', () => {
  it('matches the database for an entry with every field and multi-byte text', () => {
    expect(auditEntryHash(SUSPEND)).toBe(
      '0000a56b9427790f31ce555e145b9a1f5c60cd7e6c8729ce6fa00da9e9941a88',
    );
  });

  it('matches the database for an entry with NULLs and the genesis predecessor', () => {
    expect(auditEntryHash(SPARSE)).toBe(
      'be130fb09dada55b0fac567006c58225cd22c92079d3d3c77a7a2980c1ba4e59',
    );
  });

  it('changes with any field, including the predecessor and the time', () => {
    const base = auditEntryHash(SUSPEND);
    expect(auditEntryHash({ ...SUSPEND, prevHash: 'cd'.repeat(32) })).not.toBe(base);
    expect(
      auditEntryHash({ ...SUSPEND, createdAt: new Date('2025-11-23T10:00:00.124Z') }),
    ).not.toBe(base);
    expect(auditEntryHash({ ...SUSPEND, afterText: '{"status": "active"}' })).not.toBe(base);
  });

  it('tells NULL from an empty string, and does not let text slide across field borders', () => {
    expect(auditEntryHash({ ...SPARSE, ip: '' })).not.toBe(auditEntryHash(SPARSE));
    // "ab" + "c" and "a" + "bc" concatenate alike; the length prefixes keep them apart.
    expect(auditEntryHash({ ...SPARSE, actor: 'ab', action: 'c' })).not.toBe(
      auditEntryHash({ ...SPARSE, actor: 'a', action: 'bc' }),
    );
    // The NULL marker as a value is still a value.
    expect(auditEntryHash({ ...SPARSE, ip: '-' })).not.toBe(auditEntryHash(SPARSE));
  });
});
