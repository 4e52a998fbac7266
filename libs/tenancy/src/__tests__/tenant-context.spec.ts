import { MissingTenantContextError, TenantContext, runInTenant } from '../tenant-context';

const tenantA = { id: 'a', slug: 'aaa', schemaName: 't_a', cluster: 'main' };
const tenantB = { id: 'b', slug: 'bbb', schemaName: 't_b', cluster: 'main' };

describe('TenantContext', () => {
  it('throws outside a context instead of defaulting to some tenant', () => {
    expect(() => TenantContext.current()).toThrow(MissingTenantContextError);
    expect(TenantContext.currentOrNull()).toBeNull();
  });

  it('keeps each concurrent unit of work in its own tenant across awaits', async () => {
    const seen = await Promise.all(
      [tenantA, tenantB, tenantA, tenantB].map((tenant, index) =>
        runInTenant(tenant, async () => {
          await new Promise((resolve) => setTimeout(resolve, 10 - index * 2));
          return TenantContext.current().id;
        }),
      ),
    );
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
  });

  it('restores the outer tenant after a nested run, even when it throws', () => {
    runInTenant(tenantA, () => {
      expect(() =>
        runInTenant(tenantB, () => {
          expect(TenantContext.current().id).toBe('b');
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(TenantContext.current().id).toBe('a');
    });
  });
});
