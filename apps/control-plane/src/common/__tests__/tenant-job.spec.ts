import { randomUUID } from 'node:crypto';
import { TENANT_STATUSES, TenantContext, type TenantStatus } from '@platform/tenancy';
import {
  refusalReason,
  runTenantJob,
  type TenantJobPolicy,
  type TenantJobTenant,
} from '../tenant-job';

const POLICY: TenantJobPolicy = { job: 'test-job', runsFor: ['provisioning', 'active'] };

function tenantWith(status: TenantStatus): TenantJobTenant {
  const id = randomUUID();
  return { id, slug: 'acme', schemaName: `t_${id.replace(/-/g, '')}`, cluster: 'main', status };
}

/** A loader over one row, and a logger that keeps what it was given. */
function harness(tenant: TenantJobTenant | null) {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const deps = {
    load: (id: string) => Promise.resolve(tenant && tenant.id === id ? tenant : null),
    logger: {
      log: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
    },
  };
  return { deps, lines };
}

describe('runTenantJob', () => {
  it('runs the work inside the tenant context for a status the job runs for', async () => {
    const tenant = tenantWith('active');
    const { deps, lines } = harness(tenant);
    let seen: string | null = null;
    const outcome = await runTenantJob(deps, POLICY, tenant.id, async (loaded) => {
      await new Promise((resolve) => setImmediate(resolve));
      // Still set after an await: log lines written here carry the tenant id.
      seen = TenantContext.current().id;
      return loaded.slug;
    });
    expect(outcome).toEqual({ ran: true, value: 'acme' });
    expect(seen).toBe(tenant.id);
    expect(lines).toEqual([]);
    expect(TenantContext.currentOrNull()).toBeNull();
  });

  it.each(['deleted', 'deleting', 'suspended', 'failed', 'pooled'] as const)(
    'does nothing for a %s tenant and logs one line naming the job, tenant and reason',
    async (status) => {
      const tenant = tenantWith(status);
      const { deps, lines } = harness(tenant);
      const work = jest.fn(() => Promise.resolve('ran'));
      const outcome = await runTenantJob(deps, POLICY, tenant.id, work);
      expect(work).not.toHaveBeenCalled();
      expect(outcome).toEqual({ ran: false, status, reason: `the tenant is ${status}` });
      expect(lines).toHaveLength(1);
      expect(lines[0].fields).toEqual({
        job: 'test-job',
        tenantId: tenant.id,
        status,
        reason: `the tenant is ${status}`,
      });
      expect(lines[0].message).toContain('test-job');
      expect(lines[0].message).toContain(tenant.id);
      expect(lines[0].message).toContain(status);
    },
  );

  it('does nothing for a tenant that does not exist', async () => {
    const { deps, lines } = harness(null);
    const work = jest.fn(() => Promise.resolve());
    const missing = randomUUID();
    const outcome = await runTenantJob(deps, POLICY, missing, work);
    expect(work).not.toHaveBeenCalled();
    expect(outcome).toEqual({ ran: false, status: null, reason: 'the tenant does not exist' });
    expect(lines[0].fields).toMatchObject({ tenantId: missing, status: null });
  });

  it.each([undefined, '', 'acme', "' OR 1=1 --", `${randomUUID()} `])(
    'fails closed on a payload without a valid tenant id (%p)',
    async (tenantId) => {
      const { deps } = harness(tenantWith('active'));
      const load = jest.spyOn(deps, 'load');
      const work = jest.fn(() => Promise.resolve());
      await expect(runTenantJob(deps, POLICY, tenantId, work)).rejects.toThrow(
        'test-job: the job carries no valid tenant id',
      );
      expect(load).not.toHaveBeenCalled();
      expect(work).not.toHaveBeenCalled();
    },
  );

  it('passes the work’s failure on, with the context gone afterwards', async () => {
    const tenant = tenantWith('provisioning');
    const { deps } = harness(tenant);
    await expect(
      runTenantJob(deps, POLICY, tenant.id, () => Promise.reject(new Error('step failed'))),
    ).rejects.toThrow('step failed');
    expect(TenantContext.currentOrNull()).toBeNull();
  });

  it('keeps two tenants’ jobs running at once in their own contexts', async () => {
    const a = tenantWith('active');
    const b = tenantWith('active');
    const rows = new Map([a, b].map((tenant) => [tenant.id, tenant]));
    const deps = {
      load: (id: string) => Promise.resolve(rows.get(id) ?? null),
      logger: { log: () => undefined },
    };
    const observe = async () => {
      const before = TenantContext.current().id;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return [before, TenantContext.current().id];
    };
    const [ra, rb] = await Promise.all([
      runTenantJob(deps, POLICY, a.id, observe),
      runTenantJob(deps, POLICY, b.id, observe),
    ]);
    expect(ra).toEqual({ ran: true, value: [a.id, a.id] });
    expect(rb).toEqual({ ran: true, value: [b.id, b.id] });
  });
});

describe('refusalReason', () => {
  it('allows exactly the statuses the policy lists (an allow-list: new statuses refuse)', () => {
    const allowed = TENANT_STATUSES.filter((status) => refusalReason(POLICY, { status }) === null);
    expect(allowed).toEqual(['provisioning', 'active']);
  });
});
