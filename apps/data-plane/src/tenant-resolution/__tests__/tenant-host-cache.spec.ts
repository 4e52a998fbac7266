import type { ResolvedTenant } from '@platform/tenancy';
import { TenantHostCache } from '../tenant-host-cache';

function tenant(id: string): ResolvedTenant {
  return {
    id,
    slug: id,
    name: id,
    plan: 'free',
    status: 'active',
    schemaName: `t_${id}`,
    cluster: 'main',
  };
}

describe('TenantHostCache', () => {
  const settings = { size: 100, ttlMs: 60_000, unknownHostTtlMs: 60_000 };

  it('forgets every hostname of a changed tenant, and only those', () => {
    const cache = new TenantHostCache(settings);
    cache.remember('a.example.com', tenant('a'));
    cache.remember('app.a.com', tenant('a'));
    cache.remember('b.example.com', tenant('b'));
    cache.forgetTenant('a', []);
    expect(cache.get('a.example.com')).toBeUndefined();
    expect(cache.get('app.a.com')).toBeUndefined();
    expect(cache.get('b.example.com')?.tenant?.id).toBe('b');
  });

  it('drops remembered unknown hosts on any change: the host may just have been added', () => {
    const cache = new TenantHostCache(settings);
    cache.remember('new.example.com', null);
    expect(cache.get('new.example.com')?.tenant).toBe(null);
    cache.forgetTenant('c', ['new.example.com']);
    expect(cache.get('new.example.com')).toBeUndefined();
  });

  it('stays within its size bound', () => {
    const cache = new TenantHostCache({ ...settings, size: 10 });
    for (let i = 0; i < 1000; i++) cache.remember(`h${i}.example.com`, tenant(String(i)));
    expect(cache.size).toBe(10);
  });

  it('does not remember unknown hosts when that is switched off', () => {
    const cache = new TenantHostCache({ ...settings, unknownHostTtlMs: 0 });
    cache.remember('nope.example.com', null);
    expect(cache.get('nope.example.com')).toBeUndefined();
  });

  it('stops serving a tenant whose host a re-read found gone, negative entries or not', () => {
    for (const unknownHostTtlMs of [0, 60_000]) {
      const cache = new TenantHostCache({ ...settings, unknownHostTtlMs });
      cache.remember('a.example.com', tenant('a'));
      cache.remember('a.example.com', null);
      expect(cache.get('a.example.com')?.tenant ?? null).toBeNull();
    }
  });

  it('keeps the tenant object when a re-read finds the tenant unchanged, not when it changed', () => {
    const cache = new TenantHostCache(settings);
    const first = tenant('a');
    cache.remember('a.example.com', first);
    cache.remember('a.example.com', tenant('a'));
    expect(cache.get('a.example.com')?.tenant).toBe(first);
    cache.remember('a.example.com', { ...tenant('a'), status: 'suspended' });
    expect(cache.get('a.example.com')?.tenant?.status).toBe('suspended');
    cache.remember('a.example.com', { ...tenant('a'), limitOverrides: { requestsPerMinute: 5 } });
    expect(cache.get('a.example.com')?.tenant?.limitOverrides).toEqual({ requestsPerMinute: 5 });
  });
});
