import type { EntityManager } from 'typeorm';
import { AuditLog } from '../audit-log.service';
import { AuditOrigins, type AuditOrigin } from '../audit-origin';
import { peerAddress } from '../audit-origin.middleware';

/** A manager that keeps the parameters of each INSERT instead of running it. */
function recordingManager(): { manager: EntityManager; inserts: unknown[][] } {
  const inserts: unknown[][] = [];
  const manager = {
    query: (_sql: string, parameters: unknown[]) => {
      inserts.push(parameters);
      return Promise.resolve([]);
    },
  } as unknown as EntityManager;
  return { manager, inserts };
}

// The INSERT's parameter order (audit-log.service.ts).
const columns = [
  'actor',
  'operator_id',
  'action',
  'tenant_id',
  'details',
  'before',
  'after',
  'source',
  'ip',
  'user_agent',
  'request_id',
] as const;
const asRow = (parameters: unknown[]) =>
  Object.fromEntries(columns.map((column, i) => [column, parameters[i]]));

describe('AuditLog.record', () => {
  const audit = new AuditLog();

  it('records a request with its operator, address, user agent and request id', async () => {
    const { manager, inserts } = recordingManager();
    let operator: string | null = null;
    const origin: AuditOrigin = {
      source: 'api',
      ip: '192.0.2.7',
      userAgent: 'console/1',
      requestId: () => 'req-abcdefgh',
      operatorId: () => operator,
      actor: () => (operator ? `operator:${operator}` : null),
    };
    await AuditOrigins.run(origin, async () => {
      // The guard authenticates after the origin is set: the entry sees its result.
      operator = 'op-1';
      await audit.record(manager, {
        action: 'tenant.suspend',
        tenantId: 't-1',
        before: { status: 'active' },
        after: { status: 'suspended' },
      });
    });
    expect(asRow(inserts[0])).toEqual({
      actor: 'operator:op-1',
      operator_id: 'op-1',
      action: 'tenant.suspend',
      tenant_id: 't-1',
      details: '{}',
      before: '{"status":"active"}',
      after: '{"status":"suspended"}',
      source: 'api',
      ip: '192.0.2.7',
      user_agent: 'console/1',
      request_id: 'req-abcdefgh',
    });
  });

  it('keeps an explicit actor and operator, and stores absent before/after as NULL', async () => {
    const { manager, inserts } = recordingManager();
    await audit.record(manager, {
      actor: 'bootstrap-admin',
      operatorId: null,
      action: 'tenant.create',
      tenantId: 't-2',
      details: { slug: 'acme' },
    });
    expect(asRow(inserts[0])).toMatchObject({
      actor: 'bootstrap-admin',
      operator_id: null,
      details: '{"slug":"acme"}',
      before: null,
      after: null,
    });
  });

  it('records work outside a request as the worker, and CLI commands as the CLI', async () => {
    const { manager, inserts } = recordingManager();
    await audit.record(manager, { action: 'tenant.activate', tenantId: 't-3' });
    await AuditOrigins.run(AuditOrigins.cli(), () =>
      audit.record(manager, { action: 'migration-run.create', tenantId: null }),
    );
    expect(asRow(inserts[0])).toMatchObject({
      actor: 'worker',
      source: 'worker',
      ip: null,
      operator_id: null,
    });
    expect(asRow(inserts[1])).toMatchObject({ actor: 'cli', source: 'cli', ip: null });
    expect(asRow(inserts[1]).user_agent).toMatch(/^cli \S+@\S+$/);
  });
});

describe('peerAddress', () => {
  it('unwraps IPv4-mapped IPv6 addresses and keeps real IPv6 ones', () => {
    expect(peerAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(peerAddress('::1')).toBe('::1');
    expect(peerAddress('2001:db8::ffff:1')).toBe('2001:db8::ffff:1');
    expect(peerAddress(undefined)).toBeNull();
  });
});
